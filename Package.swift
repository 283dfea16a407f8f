// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "vectorjobs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vectorjobs", targets: ["vectorjobs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries (Debian -dev packages). Each is wrapped by exactly one Swift module.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        .target(name: "JSON"),
        .target(name: "JSONRPC", dependencies: ["JSON"]),
        .target(name: "MCP", dependencies: ["JSONRPC", "JSON", .product(name: "Logging", package: "swift-log")]),
        .target(name: "HTTP", dependencies: ["CCurl", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Signing", dependencies: ["CCrypto"]),
        .target(name: "Profiles", dependencies: ["CYAML"]),
        .target(name: "Store", dependencies: ["CSQLite"]),
        .target(name: "AnalyticDB", dependencies: ["HTTP", "Signing", "Profiles", "JSON"]),
        .target(name: "VikingDB", dependencies: ["HTTP", "Signing", "Profiles", "JSON", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Jobs", dependencies: ["Store", "AnalyticDB", "VikingDB", "Profiles", "JSON", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Emulator", dependencies: ["Store", "Signing", "HTTP", "JSON", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Tools", dependencies: ["MCP", "JSONRPC", "JSON", "Jobs", "AnalyticDB", "VikingDB", "Profiles", "HTTP", "Store"]),
        .executableTarget(name: "vectorjobs", dependencies: [
            "Tools", "MCP", "JSONRPC", "Emulator", "HTTP", "Profiles", "Jobs", "Store", "AnalyticDB", "VikingDB",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "VectorJobsTests", dependencies: [
            "JSON", "JSONRPC", "MCP", "HTTP", "Signing", "Profiles", "Store", "AnalyticDB", "VikingDB", "Jobs", "Emulator", "Tools",
        ], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
