// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "pwb",
    products: [
        .executable(name: "pwb", targets: ["pwb"])
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(name: "WorkbenchCore"),
        .target(name: "WorkbenchStore", dependencies: ["WorkbenchCore", "CSQLite"]),
        .target(name: "ModelRuntime", dependencies: ["WorkbenchCore"]),
        .target(name: "Workbench", dependencies: ["WorkbenchCore", "WorkbenchStore", "ModelRuntime"]),
        .target(name: "WorkbenchCLI", dependencies: ["Workbench", "CEditLine"]),
        .executableTarget(name: "pwb", dependencies: ["WorkbenchCLI"]),
        .testTarget(name: "WorkbenchCoreTests", dependencies: ["WorkbenchCore"]),
        .testTarget(name: "WorkbenchStoreTests", dependencies: ["WorkbenchStore"]),
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench"]),
        .testTarget(name: "WorkbenchCLITests", dependencies: ["WorkbenchCLI"]),
        .testTarget(name: "EndToEndTests", dependencies: ["pwb"]),
    ],
    swiftLanguageModes: [.v6]
)
