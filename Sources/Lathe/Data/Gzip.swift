import CZlib

/// Decompresses a gzip stream (one or more members) with zlib.
/// - Throws: `InputError` when the stream is corrupt or truncated.
func gunzip(_ compressed: [UInt8], location: String) throws(InputError) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(compressed.count * 4)
    var stream = z_stream()
    // 15 window bits + 32: accept a gzip or zlib header.
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw InputError("cannot initialise zlib", at: location)
    }
    defer { inflateEnd(&stream) }
    let chunk = 1 << 16
    var buffer = [UInt8](repeating: 0, count: chunk)
    var status: Int32 = Z_OK
    try compressed.withUnsafeBufferPointer { (input: UnsafeBufferPointer<UInt8>) throws(InputError) in
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = UInt32(input.count)
        repeat {
            let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(chunk)
                status = inflate(&stream, Z_NO_FLUSH)
                return chunk - Int(stream.avail_out)
            }
            if status == Z_BUF_ERROR { throw InputError("truncated gzip data", at: location) }
            guard status == Z_OK || status == Z_STREAM_END else {
                throw InputError("corrupt gzip data", at: location)
            }
            output.append(contentsOf: buffer[0..<produced])
            if status == Z_STREAM_END, stream.avail_in > 0 {
                // Another gzip member follows (concatenated .gz files are valid).
                guard inflateReset(&stream) == Z_OK else { throw InputError("corrupt gzip data", at: location) }
                status = Z_OK
            }
        } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
    }
    guard status == Z_STREAM_END else { throw InputError("truncated gzip data", at: location) }
    return output
}
