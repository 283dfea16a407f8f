internal import CCrypto
import Foundation

/// Hashes and message authentication codes from OpenSSL's libcrypto.
public enum Digest {
    public static func sha256(_ data: some ContiguousBytes) -> [UInt8] {
        digest(data, EVP_sha256(), length: 32)
    }

    public static func md5(_ data: some ContiguousBytes) -> [UInt8] {
        digest(data, EVP_md5(), length: 16)
    }

    public static func hmacSHA256(key: some ContiguousBytes, data: some ContiguousBytes) -> [UInt8] {
        hmac(EVP_sha256(), key: key, data: data, length: 32)
    }

    public static func hmacSHA1(key: some ContiguousBytes, data: some ContiguousBytes) -> [UInt8] {
        hmac(EVP_sha1(), key: key, data: data, length: 20)
    }

    /// Cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "the system's random number generator failed")
        return out
    }

    private static func digest(_ data: some ContiguousBytes, _ md: OpaquePointer?, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var size: UInt32 = 0
        data.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = EVP_Digest(input.baseAddress, input.count, output.baseAddress, &size, md, nil)
            }
        }
        return out
    }

    private static func hmac(_ md: OpaquePointer?, key: some ContiguousBytes, data: some ContiguousBytes, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var size: UInt32 = 0
        key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                out.withUnsafeMutableBufferPointer { o in
                    _ = HMAC(md, k.baseAddress, Int32(k.count), d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, o.baseAddress, &size)
                }
            }
        }
        return out
    }
}

/// Incremental SHA-256 for data that arrives in pieces (a file being streamed).
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    public func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &size) }
        return out
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    public var utf8Bytes: [UInt8] { Array(utf8) }
}
