import CAutoGLM

/// The host API table for code that embeds the host: a program's in-process components call
/// the same functions a plugin receives in `init` (the C API returns it from
/// `aglm_host_api_table()`). Valid for the life of the process.
public enum HostAPITable {
    /// The one process-wide table.
    public static var shared: UnsafePointer<aglm_host_api> { UnsafePointer(HostAPI.table) }
}
