import Foundation
import Signing

/// Job handle ids: `job_` and 128 random bits in lowercase base32 (26 characters), unguessable.
public enum JobID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    public static func make() -> String {
        let bytes = Digest.randomBytes(16)
        var bits = 0, value = 0
        var out = "job_"
        for byte in bytes {
            value = (value << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(value >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(value << (5 - bits)) & 31]) }
        return out
    }

    public static func isWellFormed(_ id: String) -> Bool {
        id.hasPrefix("job_") && id.count == 30 && id.dropFirst(4).allSatisfy { alphabet.contains($0) }
    }
}
