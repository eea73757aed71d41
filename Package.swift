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
        .target(name: "WorkbenchCore", exclude: ["README.md"]),
        .target(name: "WorkbenchStore", dependencies: ["WorkbenchCore", "CSQLite"], exclude: ["README.md"]),
        .target(name: "ModelRuntime", dependencies: ["WorkbenchCore"], exclude: ["README.md"]),
        .target(
            name: "Workbench", dependencies: ["WorkbenchCore", "WorkbenchStore", "ModelRuntime"],
            exclude: ["README.md"],
            // The LoRA trainer: its script, its pinned packages and their installer (also `make trainer`).
            resources: [
                .copy("FineTuning/train_lora.py"), .copy("FineTuning/setup-trainer.sh"),
                .copy("FineTuning/trainer-requirements.txt"),
            ]
        ),
        .target(
            name: "WorkbenchCLI",
            dependencies: ["Workbench", "WorkbenchCore", "WorkbenchStore", "ModelRuntime", "CEditLine"],
            exclude: ["README.md"]
        ),
        .executableTarget(name: "pwb", dependencies: ["WorkbenchCLI"]),
        // The fuzz harness (FuzzTests) also drives what servers and command lines feed the layers above.
        .testTarget(name: "WorkbenchCoreTests", dependencies: ["WorkbenchCore", "ModelRuntime", "WorkbenchCLI"]),
        .testTarget(name: "WorkbenchStoreTests", dependencies: ["WorkbenchStore"]),
        // A stub model server for tests (in process) and benchmarks (as its own executable).
        .target(name: "StubRuntime", dependencies: ["WorkbenchCore"], path: "Tests/StubRuntime"),
        .executableTarget(name: "pwb-stub-runtime", dependencies: ["StubRuntime"], path: "Tests/StubRuntimeServer"),
        .testTarget(name: "ModelRuntimeTests", dependencies: ["ModelRuntime", "StubRuntime"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "StubRuntime"]),
        .testTarget(name: "WorkbenchCLITests", dependencies: ["WorkbenchCLI"]),
        .testTarget(name: "EndToEndTests", dependencies: ["pwb", "StubRuntime"]),
    ],
    swiftLanguageModes: [.v6]
)

// Async functions run on their caller's actor unless they say otherwise (SE-0461), so the
// main-actor session can await workspace methods without sending the store across actors.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
}
