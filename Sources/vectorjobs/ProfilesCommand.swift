import ArgumentParser
import Foundation
import MCP
import Profiles

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Work with profiles files.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a profiles file: syntax, keys, types, ${VAR} interpolation. Exits non-zero on error.")

        @Argument(help: "The file (default: $VECTORJOBS_PROFILES, else ~/.config/vectorjobs/profiles.yaml).")
        var file: String?

        func run() throws {
            guard let path = Runtime.resolveProfilesPath(file) else {
                throw ValidationError("no profiles file: name one, or set VECTORJOBS_PROFILES")
            }
            do {
                let config = try ProfilesLoader.load(path: path)
                LogRouter.shared.registerSecrets(config.secrets)
                print("\(path): OK, \(config.profiles.count) profile(s)")
                for profile in config.profiles {
                    let isDefault = config.defaults[profile.provider] == profile.name ? " (default)" : ""
                    let place = profile.instance ?? profile.workspace ?? "-"
                    print("  \(profile.name): \(profile.provider.rawValue), \(profile.region), \(place)\(isDefault)")
                }
            } catch {
                FileHandle.standardError.write(Data("\(error.description)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
