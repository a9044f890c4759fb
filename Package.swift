// swift-tools-version: 6.1
// AutoGLM: a Swift training host whose attention variants, optimizers, evaluators and callbacks are
// C plugins loaded against include/autoglm/plugin.h.
import Foundation
import PackageDescription

/// The plugins bundled with AutoGLM: every folder under plugins/ holding C sources. Each becomes
/// one dynamic library product named `aglm_<folder>`, built next to the `autoglm` executable,
/// where the host finds it. Adding a plugin is adding a folder. SwiftPM caches the evaluated
/// manifest by this file's text, not by the folders it lists: after adding or removing a folder,
/// build once with `swift build --manifest-cache none`.
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

/// The Swift runtime and Foundation, linked into `libautoglm.so` and the `autoglm` executable so
/// that an installed tree needs no Swift toolchain (ARCHITECTURE.md, "Install"). `-static-stdlib`
/// alone links only the core (swift_static/linux/static-stdlib-args.lnk); Foundation's archives
/// and the ones they need are named here, grouped so their order does not matter. (The linker's
/// warning that "the use of `mktemp` is dangerous" comes from Foundation's archive, not from
/// AutoGLM's code.)
let staticSwiftRuntime: [String] = ["-static-stdlib", "-Xlinker", "--start-group"] + [
    "Foundation", "FoundationInternationalization", "FoundationEssentials", "CoreFoundation", "_FoundationICU",
    "_FoundationCollections", "_FoundationCShims", "swiftSynchronization", "swift_RegexParser",
    "swift_StringProcessing", "swiftDispatch", "swiftGlibc", "swift_Concurrency",
].map { "-l" + $0 } + ["-Xlinker", "--end-group"]

/// The soname of libautoglm: its major is the C API's (AGLM_API_MAJOR in include/autoglm/autoglm.h).
let embeddingSoname = "libautoglm.so.1"

let package = Package(
    name: "autoglm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "autoglm", targets: ["autoglm"]),
        .library(name: "AutoGLM", targets: ["AutoGLM"]),
        // The C embedding API (include/autoglm/autoglm.h). SwiftPM names the file
        // libAutoGLMC.so (a product may not share the executable's name); its soname is
        // libautoglm.so.1, and `make build`/`make install` add the libautoglm.so names.
        .library(name: "AutoGLMC", type: .dynamic, targets: ["AutoGLMC"]),
    ] + bundledPlugins.map { .library(name: "aglm_\($0)", type: .dynamic, targets: ["aglm_\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // `swift package generate-documentation --target AutoGLM` (`make docs`): DocC for the library.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
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
        // OpenSSL's libcrypto: the SHA-256 of plugin files in plugins.lock (Debian: libssl-dev).
        .systemLibrary(name: "CLibCrypto", path: "Sources/CLibCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // libffi: calls plugin functions declared by a C prototype string (Debian: libffi-dev).
        .systemLibrary(name: "CFFI", path: "Sources/CFFI", pkgConfig: "libffi",
                       providers: [.apt(["libffi-dev"])]),
        // Element kernels in C, where Swift's SIMD types vectorise poorly (GELU's erf polynomial),
        // one variant per instruction set; the bf16 GEMM; the worker pool.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-Wall", "-Wextra"])]
        ),
        // Starting a search trial's child process (fork and exec with nothing but system calls between).
        .target(name: "CProcess", cSettings: [.unsafeFlags(["-Wall", "-Wextra"])]),
        // The MPI calls of data-parallel training, reached through dlopen (no link-time MPI).
        .target(name: "CMPI", cSettings: [.unsafeFlags(["-O2", "-Wall", "-Wextra"])], linkerSettings: [.linkedLibrary("dl")]),
        // Tensors, kernels and reverse-mode autograd.
        .target(
            name: "AutoGLMCore",
            dependencies: ["CBLAS", "CKernels"],
            // -wmo only in release (where SwiftPM already builds whole-module): a debug build with it,
            // as the DocC plugin's symbol-graph build is, fails ("index output filenames do not match").
            swiftSettings: [.unsafeFlags(["-Ounchecked"]), .unsafeFlags(["-wmo"], .when(configuration: .release)),
                            .swiftLanguageMode(.v5)]
        ),
        // The host: plugin loader, host API table, GPT model, trainer, config, run plots, search.
        .target(
            name: "AutoGLM",
            dependencies: [
                "AutoGLMCore", "CAutoGLM", "CCairo", "CFFI", "CLibCrypto", "CMPI", "CProcess",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The C embedding API: `@c` functions over Session, exporting only the header's
        // aglm_* symbols (exports.map), with the Swift runtime linked in.
        .target(
            name: "AutoGLMC",
            dependencies: ["AutoGLM", "AutoGLMCore", "CAutoGLM"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags(staticSwiftRuntime + [
                "-Xlinker", "-soname=\(embeddingSoname)",
                "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/AutoGLMC/exports.map",
            ])]
        ),
        // The command line (every subcommand), a library so that its tests link it without the
        // executable's static Swift runtime (a test binary must link XCTest dynamically).
        .target(
            name: "AutoGLMCLI",
            dependencies: [
                "AutoGLM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The `autoglm` command-line tool: AutoGLMCLI's main, with the Swift runtime linked in.
        .executableTarget(
            name: "autoglm",
            dependencies: ["AutoGLMCLI"],
            linkerSettings: [.unsafeFlags(staticSwiftRuntime)]
        ),
        .testTarget(name: "AutoGLMCoreTests", dependencies: ["AutoGLMCore"]),
        // Fixtures/ holds C plugin sources the tests compile with `cc` at test time.
        .testTarget(name: "AutoGLMTests", dependencies: ["AutoGLM", "AutoGLMCore", "CAutoGLM"], exclude: ["Fixtures"]),
        // The command line's own code (progress display, plugin scaffold), through `@testable import AutoGLMCLI`.
        .testTarget(name: "AutoGLMCLITests", dependencies: ["AutoGLMCLI", "AutoGLM"]),
    ] + bundledPlugins.map {
        .target(name: "aglm_\($0)", path: "plugins/\($0)", publicHeadersPath: ".", cSettings: pluginCFlags)
    }
)
