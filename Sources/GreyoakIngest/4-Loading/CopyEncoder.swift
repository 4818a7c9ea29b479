import GreyoakPostgres
/// Builds PostgreSQL binary COPY data: a signature header, then per row a field count and
/// each field as a length-prefixed big-endian value (length -1 for NULL).
package struct CopyEncoder {
    package static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    package static let trailer: [UInt8] = [0xFF, 0xFF]

    let buffer: ByteBuffer

    package init(buffer: ByteBuffer) { self.buffer = buffer }

    /// Reserves room for a whole row of fixed-size fields so the appends below need no checks.
    @inline(__always) package func beginRow(fields: Int16, textBytes: Int) {
        buffer.reserve(2 + Int(fields) * 12 + textBytes)
        buffer.appendBigEndian(fields)
    }

    @inline(__always) package func null() { buffer.appendBigEndian(Int32(-1)) }

    @inline(__always) package func float8(_ value: Double) {
        buffer.appendBigEndian(Int32(8))
        buffer.appendBigEndian(value.bitPattern)
    }

    @inline(__always) package func int8(_ value: Int64) {
        buffer.appendBigEndian(Int32(8))
        buffer.appendBigEndian(value)
    }

    @inline(__always) package func int4(_ value: Int32) {
        buffer.appendBigEndian(Int32(4))
        buffer.appendBigEndian(value)
    }

    @inline(__always) package func text(_ pointer: UnsafeRawPointer, _ length: Int) {
        buffer.appendBigEndian(Int32(length))
        buffer.append(pointer, length)
    }

    @inline(__always) package func text(_ value: [UInt8]) {
        buffer.appendBigEndian(Int32(value.count))
        buffer.append(value)
    }
}
