import Foundation

/// Start-up checks and settings that must happen before any tensor code runs.
enum ProcessSetup {
    /// Refuses to run on a CPU the build cannot execute, and gives OpenBLAS a short spin timeout.
    static func prepare() {
        #if AUTOGLM_REQUIRES_AVX2
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
           !(flags.contains(" avx2") && flags.contains(" fma")) {
            FileHandle.standardError.write(Data("autoglm: this build uses AVX2 and FMA, which this CPU lacks; rebuild with `AUTOGLM_PORTABLE=1 swift build -c release`\n".utf8))
            exit(1)
        }
        #endif
        // OpenBLAS's idle worker threads spin for 2^28 cycles between GEMMs by default, competing
        // with the host's own kernels for the cores. A short timeout makes them sleep instead.
        // OpenBLAS reads the variable when it is loaded, so set it and start again once.
        if ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] == nil {
            setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
            let argv = CommandLine.unsafeArgv
            execv("/proc/self/exe", argv)
            // execv only returns on failure: carry on with OpenBLAS's default.
        }
    }
}
