import Foundation

/// The symbols a shared object exports, read from its ELF dynamic symbol table (`.dynsym`) with
/// no external tool: what `nm -D --defined-only` lists, minus the few symbols the linker itself
/// defines in every library (`_edata`, `_end`, `__bss_start`, ...). A symbol is exported when it
/// is defined (not `SHN_UNDEF`), global, weak or GNU-unique, and of default or protected
/// visibility. ELF32 and ELF64, either byte order. Used by `plugins validate` to check the
/// header's rule that a plugin exports exactly `aglm_plugin_entry_v1`.
enum ELFSymbols {
    /// Symbols every linker adds to a shared object; they are not the plugin's.
    static let linkerDefined: Set<String> = [
        "_edata", "_end", "__bss_start", "__bss_start__", "__bss_end__", "_bss_end__", "__end__", "_etext",
        "__etext", "__data_start", "_init", "_fini",
    ]

    /// Why a file could not be read as ELF.
    struct NotELF: Error, CustomStringConvertible {
        let description: String
    }

    /// The exported symbol names of the shared object at `path`, sorted.
    /// - Throws: `NotELF` for a file that is not a well-formed ELF object with a `.dynsym`.
    static func exported(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw NotELF(description: "cannot read \(path)") }
        return try exported(bytes: [UInt8](data))
    }

    /// The exported symbol names of the ELF image `bytes`, sorted.
    static func exported(bytes: [UInt8]) throws -> [String] {
        guard bytes.count >= 52, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw NotELF(description: "not an ELF file")
        }
        guard bytes[4] == 1 || bytes[4] == 2, bytes[5] == 1 || bytes[5] == 2 else {
            throw NotELF(description: "unknown ELF class or byte order")
        }
        let reader = Reader(bytes: bytes, wide: bytes[4] == 2, littleEndian: bytes[5] == 1)
        let sections = try reader.sections()
        guard let dynsym = sections.first(where: { $0.type == 11 }) else {  // SHT_DYNSYM
            throw NotELF(description: "no dynamic symbol table (.dynsym): not a shared object")
        }
        guard Int(dynsym.link) < sections.count else { throw NotELF(description: ".dynsym links to a missing string table") }
        let strings = sections[Int(dynsym.link)]
        let entry = reader.wide ? 24 : 16
        guard dynsym.entrySize == entry || dynsym.entrySize == 0 else { throw NotELF(description: "unexpected .dynsym entry size") }
        var names: [String] = []
        for i in 1..<max(1, dynsym.size / entry) {  // entry 0 is the null symbol
            let at = dynsym.offset + i * entry
            let symbol = try reader.symbol(at: at)
            let binding = symbol.info >> 4, visibility = symbol.other & 3
            guard symbol.section != 0, [1, 2, 10].contains(binding), visibility == 0 || visibility == 3 else { continue }
            let name = try reader.string(at: strings.offset, limit: strings.size, index: Int(symbol.name))
            if !linkerDefined.contains(name) { names.append(name) }
        }
        return names.sorted()
    }

    /// One section header: what the symbol reading needs of it.
    private struct Section {
        let type: UInt32, offset: Int, size: Int, link: UInt32, entrySize: Int
    }

    /// One symbol table entry.
    private struct Symbol {
        let name: UInt32, info: UInt8, other: UInt8, section: UInt16
    }

    /// Bounds-checked reads of the image in its class and byte order.
    private struct Reader {
        let bytes: [UInt8], wide: Bool, littleEndian: Bool

        func integer(_ at: Int, _ width: Int) throws -> UInt64 {
            guard at >= 0, width <= 8, at <= bytes.count - width else { throw NotELF(description: "truncated ELF file") }
            var value: UInt64 = 0
            for i in 0..<width {
                let byte = UInt64(bytes[at + (littleEndian ? width - 1 - i : i)])
                value = value << 8 | byte
            }
            return value
        }

        func offset(_ at: Int, _ width: Int) throws -> Int {
            let value = try integer(at, width)
            guard value <= UInt64(bytes.count) else { throw NotELF(description: "an offset points past the end of the file") }
            return Int(value)
        }

        func sections() throws -> [Section] {
            let shoff = try offset(wide ? 0x28 : 0x20, wide ? 8 : 4)
            let entry = Int(try integer(wide ? 0x3A : 0x2E, 2)), count = Int(try integer(wide ? 0x3C : 0x30, 2))
            guard entry >= (wide ? 64 : 40) else { throw NotELF(description: "no section headers") }
            return try (0..<count).map { i in
                let h = shoff + i * entry
                return Section(type: UInt32(try integer(h + 4, 4)),
                               offset: try offset(h + (wide ? 24 : 16), wide ? 8 : 4),
                               size: try offset(h + (wide ? 32 : 20), wide ? 8 : 4),
                               link: UInt32(try integer(h + (wide ? 40 : 24), 4)),
                               entrySize: try offset(h + (wide ? 56 : 36), wide ? 8 : 4))
            }
        }

        func symbol(at: Int) throws -> Symbol {
            // ELF64: name(4) info(1) other(1) shndx(2) value(8) size(8); ELF32: name(4) value(4) size(4) info other shndx
            let infoAt = wide ? at + 4 : at + 12
            return Symbol(name: UInt32(try integer(at, 4)), info: UInt8(try integer(infoAt, 1)),
                          other: UInt8(try integer(infoAt + 1, 1)), section: UInt16(try integer(infoAt + 2, 2)))
        }

        func string(at base: Int, limit: Int, index: Int) throws -> String {
            guard index < limit else { throw NotELF(description: "a symbol name lies outside its string table") }
            var end = base + index
            while end < min(bytes.count, base + limit), bytes[end] != 0 { end += 1 }
            return String(decoding: bytes[(base + index)..<end], as: UTF8.self)
        }
    }
}
