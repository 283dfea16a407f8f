/// `${VAR}` and `${VAR:-default}` in a value, resolved from the environment. `$$` is a literal `$`.
public enum Interpolation {
    public static func expand(_ text: String, environment: [String: String], at mark: SourceMark) throws(ProfileError) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "$" else { out.append(c); i = text.index(after: i); continue }
            let next = text.index(after: i)
            if next < text.endIndex && text[next] == "$" { out.append("$"); i = text.index(after: next); continue }
            guard next < text.endIndex, text[next] == "{" else { out.append(c); i = next; continue }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw ProfileError(mark, "unterminated ${ in value (expected ${NAME} or ${NAME:-default})")
            }
            let inner = text[text.index(after: next)..<close]
            let name: Substring
            let fallback: Substring?
            if let sep = inner.range(of: ":-") {
                name = inner[..<sep.lowerBound]
                fallback = inner[sep.upperBound...]
            } else {
                name = inner
                fallback = nil
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ProfileError(mark, "invalid variable name \"\(name)\" in ${…}")
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                out += value
            } else if let fallback {
                out += fallback
            } else {
                throw ProfileError(mark, "environment variable \(name) is not set (use ${\(name):-default} for a default)")
            }
            i = text.index(after: close)
        }
        return out
    }
}
