import Foundation

/// Start-up checks and settings that must happen before any tensor code runs.
enum ProcessSetup {
    /// Refuses to run on a CPU the build cannot execute.
    static func prepare() {
        #if AUTOGLM_REQUIRES_AVX2
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
           !(flags.contains(" avx2") && flags.contains(" fma")) {
            FileHandle.standardError.write(Data("autoglm: this build uses AVX2 and FMA, which this CPU lacks; rebuild with `AUTOGLM_PORTABLE=1 swift build -c release`\n".utf8))
            exit(1)
        }
        #endif
    }
}
