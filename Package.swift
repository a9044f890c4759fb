// swift-tools-version: 6.1
// AutoGLM: a Swift training host whose attention variants, optimizers, evaluators and callbacks are
// C plugins loaded against include/autoglm/plugin.h.
import Foundation
import PackageDescription

/// The plugins bundled with AutoGLM: every folder under plugins/ holding C sources. Each becomes
/// one dynamic library product named `aglm_<folder>`, built next to the `autoglm` executable,
/// where the host finds it. Adding a plugin is adding a folder.
let bundledPlugins: [String] = {
    let root = Context.packageDirectory + "/plugins"
    let folders = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    return folders.filter { folder in
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []
        return files.contains { $0.hasSuffix(".c") }
    }.sorted()
}()

/// Everything is compiled for baseline x86-64, so one build runs on any x86-64 CPU: the hot C
/// kernels are compiled once per instruction set in the same build (`target` attributes:
/// Sources/CKernels/kernels_*.c, bf16.c, the flash plugin) and chosen at run time from cpuid
/// (`KernelPath`, config key `run.isa`).
/// Optimisation flags for the C plugins (the host's kernels are Swift, built with -O by -c release).
let pluginCFlags: [CSetting] = [
    .headerSearchPath("../../include"),
    .unsafeFlags(["-O3", "-ffp-contract=fast", "-Wall", "-Wextra"]),
]

let package = Package(
    name: "autoglm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "autoglm", targets: ["autoglm"]),
        .library(name: "AutoGLM", targets: ["AutoGLM"]),
    ] + bundledPlugins.map { .library(name: "aglm_\($0)", type: .dynamic, targets: ["aglm_\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The public C header (include/autoglm/plugin.h), seen from Swift.
        .systemLibrary(name: "CAutoGLM", path: "Sources/CAutoGLM"),
        // OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        // cairo's 2D drawing with SVG and PNG output, for `autoglm plot` (Debian: libcairo2-dev).
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        // Element kernels in C, where Swift's SIMD types vectorise poorly (GELU's erf polynomial),
        // one variant per instruction set; the bf16 GEMM; the worker pool.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-Wall", "-Wextra"])]
        ),
        // Tensors, kernels and reverse-mode autograd.
        .target(
            name: "AutoGLMCore",
            dependencies: ["CBLAS", "CKernels"],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-wmo"]), .swiftLanguageMode(.v5)]
        ),
        // The host: plugin loader, host API table, GPT model, trainer, config, run plots.
        .target(
            name: "AutoGLM",
            dependencies: [
                "AutoGLMCore", "CAutoGLM", "CCairo",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The `autoglm` command-line tool.
        .executableTarget(
            name: "autoglm",
            dependencies: [
                "AutoGLM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "AutoGLMCoreTests", dependencies: ["AutoGLMCore"]),
        // Fixtures/ holds C plugin sources the tests compile with `cc` at test time.
        .testTarget(name: "AutoGLMTests", dependencies: ["AutoGLM", "AutoGLMCore", "CAutoGLM"], exclude: ["Fixtures"]),
    ] + bundledPlugins.map {
        .target(name: "aglm_\($0)", path: "plugins/\($0)", publicHeadersPath: ".", cSettings: pluginCFlags)
    }
)
