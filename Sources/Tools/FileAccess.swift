import Foundation
import MCP

/// Local files tools may read: only below the profiles file's `files.allowed_roots`, judged on the resolved real
/// path (so a symlink cannot lead outside).
enum FileAccess {
    static func expand(_ path: String, relativeTo base: String) -> String {
        var path = path
        if path == "~" || path.hasPrefix("~/") { path = NSHomeDirectory() + path.dropFirst(1) }
        if !path.hasPrefix("/") { path = (base as NSString).appendingPathComponent(path) }
        return (path as NSString).standardizingPath
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The real path of `path` if it is a readable regular file inside an allowed root.
    static func check(_ path: String, environment: ToolEnvironment) throws(ToolFailure) -> String {
        let absolute = expand(path, relativeTo: environment.workingDirectory)
        guard let real = realPath(absolute) else { throw ToolFailure("file_path \(path): no such file") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ToolFailure("file_path \(path) is a directory, not a file")
        }
        let roots = environment.profiles.allowedRoots.compactMap { realPath(expand($0, relativeTo: environment.workingDirectory)) }
        let inside = roots.contains { root in root == "/" || real == root || real.hasPrefix(root + "/") }
        guard inside else {
            throw ToolFailure("file_path \(path) resolves to \(real), which is outside the allowed roots (\(roots.joined(separator: ", "))); add its directory to files.allowed_roots in the profiles file")
        }
        guard FileManager.default.isReadableFile(atPath: real) else { throw ToolFailure("file_path \(path) is not readable") }
        return real
    }
}
