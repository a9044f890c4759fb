import Foundation

/// How a process tells that `mpirun` (Open MPI's, or any PMIx launcher) started it: from its
/// environment alone, so a process that was not launched so never opens the MPI library.
enum MPILaunch {
    /// The variables a launcher sets: Open MPI's `OMPI_COMM_WORLD_SIZE`, PMIx's `PMIX_RANK`.
    static let variables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK"]

    /// Whether `environment` is that of a process an MPI launcher started.
    static func isLaunched(_ environment: [String: String]) -> Bool {
        variables.contains { environment[$0] != nil }
    }
}
