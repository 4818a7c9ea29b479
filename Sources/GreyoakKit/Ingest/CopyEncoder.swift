/// Builds PostgreSQL binary COPY data: a signature header, then per row a field count and
/// each field as a length-prefixed big-endian value (length -1 for NULL).
struct CopyEncoder {
    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    static let trailer: [UInt8] = [0xFF, 0xFF]

    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func beginRow(fields: Int16) { append(fields) }
    @inline(__always) mutating func null() { append(Int32(-1)) }

    @inline(__always) mutating func float8(_ value: Double) {
        append(Int32(8))
        append(value.bitPattern)
    }

    @inline(__always) mutating func optionalFloat8(_ value: Double?) {
        if let value { float8(value) } else { null() }
    }

    @inline(__always) mutating func int8(_ value: Int64) {
        append(Int32(8))
        append(value)
    }

    @inline(__always) mutating func int4(_ value: Int32) {
        append(Int32(4))
        append(value)
    }

    @inline(__always) mutating func text(_ pointer: UnsafeRawPointer, _ length: Int) {
        append(Int32(length))
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
    }

    @inline(__always) mutating func text(_ value: [UInt8]) {
        append(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    @inline(__always) private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
