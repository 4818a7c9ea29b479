/// PostgreSQL's own 64-bit hash functions, computed in the client: `hashfloat8extended`,
/// `timestamp_hash_extended` (which is `hashint8extended`) and `hashtextextended` under a
/// deterministic collation, all built on `hash_bytes_extended`, Bob Jenkins' lookup3 as
/// PostgreSQL adapted it (`src/common/hashfn.c`).
///
/// Our own code, because no library has it and it must match the server bit for bit: the
/// server hashes each row of `scores` where it lies (on every Citus worker at once) and
/// sends 8 bytes in place of the row (``ExistingRowsQuery``); the client hashes its own
/// rows the same way (``RowFingerprint``). The values are those of a little-endian server,
/// which reads the bytes of a value in the order written here; a big-endian one gives other
/// hashes, so that every row looks changed and goes through the staging table: slower,
/// never wrong.
package enum PostgresHash {
    /// `hash_bytes_extended(k, keylen, seed)`.
    package static func bytes(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var (a, b, c) = start(length: key.count, seed: seed)
        var offset = 0, left = key.count
        while left >= 12 {
            a &+= word(key, offset)
            b &+= word(key, offset + 4)
            c &+= word(key, offset + 8)
            mix(&a, &b, &c)
            offset += 12
            left -= 12
        }
        // The last 11 bytes, little-endian; the lowest byte of c is left for the length.
        if left >= 8 {
            a &+= word(key, offset)
            b &+= word(key, offset + 4)
            for i in 8..<left { c &+= UInt32(key[offset + i]) << (8 * (i - 7)) }
        } else if left >= 4 {
            a &+= word(key, offset)
            for i in 4..<left { b &+= UInt32(key[offset + i]) << (8 * (i - 4)) }
        } else {
            for i in 0..<left { a &+= UInt32(key[offset + i]) << (8 * i) }
        }
        final(&a, &b, &c)
        return UInt64(b) << 32 | UInt64(c)
    }

    /// `hash_bytes_uint32_extended(k, seed)`.
    static func uint32(_ k: UInt32, seed: UInt64) -> UInt64 {
        var (a, b, c) = start(length: 4, seed: seed)
        a &+= k
        final(&a, &b, &c)
        return UInt64(b) << 32 | UInt64(c)
    }

    /// `hashint8extended(value, seed)`, which `timestamp_hash_extended` is.
    package static func int8(_ value: Int64, seed: UInt64) -> UInt64 {
        let high = UInt32(truncatingIfNeeded: value >> 32)
        var low = UInt32(truncatingIfNeeded: value)
        low ^= value >= 0 ? high : ~high
        return uint32(low, seed: seed)
    }

    /// `hashfloat8extended(value, seed)`: zeros hash to the seed, every NaN as the standard one.
    @inline(__always)
    package static func float8(_ value: Double, seed: UInt64) -> UInt64 {
        if value == 0 { return seed }
        return eightBytes(value.isNaN ? Double.nan.bitPattern : value.bitPattern, seed: seed)
    }

    /// ``bytes(_:seed:)`` of a value's 8 bytes as a little-endian server holds them: the
    /// first word is the low half. The most common case (15 of a row's 18 value columns), so
    /// without the general loop.
    @inline(__always)
    static func eightBytes(_ bits: UInt64, seed: UInt64) -> UInt64 {
        var (a, b, c) = start(length: 8, seed: seed)
        a &+= UInt32(truncatingIfNeeded: bits)
        b &+= UInt32(truncatingIfNeeded: bits >> 32)
        final(&a, &b, &c)
        return UInt64(b) << 32 | UInt64(c)
    }

    /// The state before the key's words: its length, then the seed as a 12-byte chunk of its
    /// own (the 4 bytes of c zero), unless it is 0.
    @inline(__always)
    private static func start(length: Int, seed: UInt64) -> (UInt32, UInt32, UInt32) {
        var a: UInt32 = 0x9E37_79B9 &+ UInt32(truncatingIfNeeded: length) &+ 3_923_095
        var b = a, c = a
        if seed != 0 {
            a &+= UInt32(truncatingIfNeeded: seed >> 32)
            b &+= UInt32(truncatingIfNeeded: seed)
            mix(&a, &b, &c)
        }
        return (a, b, c)
    }

    @inline(__always)
    private static func word(_ key: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: key.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    private static func rot(_ x: UInt32, _ k: UInt32) -> UInt32 { x << k | x >> (32 - k) }

    @inline(__always)
    private static func mix(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
        a &-= c; a ^= rot(c, 4); c &+= b
        b &-= a; b ^= rot(a, 6); a &+= c
        c &-= b; c ^= rot(b, 8); b &+= a
        a &-= c; a ^= rot(c, 16); c &+= b
        b &-= a; b ^= rot(a, 19); a &+= c
        c &-= b; c ^= rot(b, 4); b &+= a
    }

    @inline(__always)
    private static func final(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
        c ^= b; c &-= rot(b, 14)
        a ^= c; a &-= rot(c, 11)
        b ^= a; b &-= rot(a, 25)
        c ^= b; c &-= rot(b, 16)
        a ^= c; a &-= rot(c, 4)
        b ^= a; b &-= rot(a, 14)
        c ^= b; c &-= rot(b, 24)
    }
}
