import Foundation

/// The file of the loaded module — the `autoglm` executable, `libautoglm.so`, or a test binary
/// — that holds the host's code, found from the address of one of its functions.
///
/// The kernel's map of the process (`/proc/self/maps`) names the file behind every mapped
/// address with an absolute path. `dladdr` would name the file as the loader was given it: the
/// main program's `argv[0]` (relative, or a bare name found through `PATH`), and a library
/// opened by a relative path relative to a directory that may have changed since; glibc also
/// declares it only under `_GNU_SOURCE`, which Swift's Glibc module does not define.
enum ModuleFile {
    /// The module's resolved path (symbolic links followed), or nil where the map cannot be read.
    static let path: String? = {
        let probe: @convention(c) () -> Void = {}
        guard let file = mappedFile(containing: UInt(bitPattern: unsafeBitCast(probe, to: Int.self))) else { return nil }
        return URL(fileURLWithPath: file).resolvingSymlinksInPath().path
    }()

    /// The file mapped at `address` in this process.
    private static func mappedFile(containing address: UInt) -> String? {
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            // "start-end perms offset dev inode      path"
            let fields = String(cString: line).split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            let file = fields[5].trimmingCharacters(in: .whitespacesAndNewlines)
            return file.hasPrefix("/") ? file : nil
        }
        return nil
    }
}
