import Foundation

/// A growable run of bytes in one malloc'd block, for the hot path of the pipeline, where
/// `Array.append(contentsOf:)` costs more than the work itself.
///
/// Not `Sendable`: it moves between stages as a `sending` value (see ``BoundedQueue``).
///
/// Its three fields are `@exclusivity(unchecked)`: one owner at a time uses a buffer, and no
/// access to them calls out while it lasts, so the runtime's check could never fire; it cost
/// three calls to `swift_beginAccess` per field encoded, about a sixth of the client's CPU
/// on a load (perf, 1M rows).
package final class ByteBuffer {
    @exclusivity(unchecked) private(set) var base: UnsafeMutableRawPointer
    @exclusivity(unchecked) package private(set) var count = 0
    @exclusivity(unchecked) private var capacity: Int

    package init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = malloc(self.capacity)!
    }

    deinit { free(base) }

    @inline(__always) func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var next = capacity * 2
        while next < needed { next *= 2 }
        base = realloc(base, next)!
        capacity = next
    }

    @inline(__always) func append(_ pointer: UnsafeRawPointer, _ length: Int) {
        reserve(length)
        (base + count).copyMemory(from: pointer, byteCount: length)
        count += length
    }

    @inline(__always) func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0.baseAddress!, $0.count) }
    }

    /// Appends a big-endian integer; the caller has reserved room.
    @inline(__always) func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        (base + count).storeBytes(of: value.bigEndian, as: T.self)
        count += MemoryLayout<T>.size
    }

    @inline(__always) func appendByte(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Drops the bytes from `offset` on (a row written, then taken back), keeping the memory.
    @inline(__always) func truncate(to offset: Int) { count = offset }

    /// Empties the buffer, keeping its memory.
    @inline(__always) func removeAll() { count = 0 }

    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    var isEmpty: Bool { count == 0 }
}
