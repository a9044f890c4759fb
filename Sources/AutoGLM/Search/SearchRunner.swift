import AutoGLMCore
import Foundation

/// Runs a study's trials as `autoglm train` child processes until it has `trials` of them:
/// `jobs` at a time, each on cores / jobs threads (`train.threads`) so the cores are not
/// oversubscribed. A trial's intermediate values come from the `eval` records of its run log,
/// read while it trains (a partly written last line is left for the next read); each is
/// reported to the study, and a trial the pruner stops is sent SIGTERM and recorded as pruned
/// with its last value. SIGINT or SIGTERM stops the running trials and hands them back to the
/// study, to be run again by the next search.
public final class SearchRunner: @unchecked Sendable {
    /// How to run the trials.
    public struct Options: Sendable {
        /// The `autoglm` executable the trials run (default: next to this library or program).
        public var executable = (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm"
        /// The study's trial count to reach.
        public var trials = 40
        /// Trials run at once.
        public var jobs = 1
        /// The environment of the trials.
        public var environment = ProcessInfo.processInfo.environment
        /// How often a running trial's log is read, in seconds.
        public var pollInterval: TimeInterval = 0.2
        /// How often this process's running trials are marked alive, in seconds.
        public var heartbeatInterval: TimeInterval = 10
        /// Stop on SIGINT and SIGTERM (the command line); off for embedders with their own handling.
        public var handlesSignals = true

        /// Defaults.
        public init() {}
    }

    /// What a search did.
    public struct Summary: Sendable {
        /// Trials this process ran to an end, by outcome.
        public var complete = 0, pruned = 0, failed = 0
        /// Whether a signal stopped it (running trials were handed back).
        public var interrupted = false
    }

    /// The study.
    public let study: Study
    /// How to run.
    public let options: Options
    /// This process, as the owner of its trials.
    public let owner = SearchProcessIdentity.current
    /// Receives one line per event (trial started, pruned, finished).
    private let say: (String) -> Void

    private let lock = NSLock()
    private var stopping = false
    private var summary = Summary()
    /// Database errors of the job threads.
    private var errors: [Error] = []

    /// A runner of `study`'s trials; `report` receives progress lines (from several threads,
    /// one at a time).
    public init(study: Study, options: Options, report: @escaping (String) -> Void) {
        self.study = study
        self.options = options
        let printLock = NSLock()
        say = { line in printLock.withLock { report(line) } }
    }

    /// `train.threads` for each trial: the cores shared by the jobs, at least one each.
    public var threadsPerTrial: Int { max(1, Kernels.coreCount / max(options.jobs, 1)) }

    /// Runs trials until the study has `options.trials` and none is left to run, or a signal.
    /// - Throws: the first database error (a trial's own failure is recorded, not thrown).
    public func run() throws -> Summary {
        guard FileManager.default.isExecutableFile(atPath: options.executable) else {
            throw SearchError("the trials run \(options.executable), which is not an executable; build it with `swift build -c release`")
        }
        try FileManager.default.createDirectory(atPath: study.trialsDirectory, withIntermediateDirectories: true)
        let signals = options.handlesSignals ? installSignalHandlers() : []
        defer {
            signals.forEach { $0.cancel() }
            if options.handlesSignals { [SIGINT, SIGTERM].forEach { signal($0, SIG_DFL) } }
        }
        let done = DispatchGroup()
        for _ in 0..<max(options.jobs, 1) {
            done.enter()
            // A dedicated thread per job: it starts its children and lives until they are reaped.
            let thread = Thread { [self] in
                defer { done.leave() }
                do { try work() } catch {
                    lock.withLock { errors.append(error); stopping = true }
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        let heartbeat = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        heartbeat.schedule(deadline: .now() + options.heartbeatInterval, repeating: options.heartbeatInterval)
        heartbeat.setEventHandler { [study, owner] in try? study.heartbeat(owner: owner) }
        heartbeat.resume()
        done.wait()
        heartbeat.cancel()
        if let first = lock.withLock({ errors.first }) { throw first }
        return lock.withLock { summary }
    }

    /// Whether a signal asked to stop.
    private var isStopping: Bool { lock.withLock { stopping } }

    /// Stops on SIGINT and SIGTERM: the job threads end their children and hand the trials back.
    private func installSignalHandlers() -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue.global())
            source.setEventHandler { [self] in
                say("search: stopping (signal \(number)); running trials go back to the study and run again next time")
                lock.withLock { stopping = true; summary.interrupted = true }
            }
            source.resume()
            return source
        }
    }

    /// One job: asks for trials and runs them until there are none or the search stops.
    private func work() throws {
        while !isStopping, let ticket = try study.ask(owner: owner, budget: options.trials) {
            try run(ticket)
        }
    }

    /// Runs one trial to its end and records it.
    private func run(_ ticket: TrialTicket) throws {
        let dir = ticket.runDirectory
        try? FileManager.default.removeItem(atPath: dir)  // a trial run again starts afresh
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let output = (dir as NSString).appendingPathComponent("output.txt")
        let again = ticket.attempt > 1 ? " (again: attempt \(ticket.attempt))" : ""
        say("trial \(ticket.number)\(again): " + ticket.overrides.joined(separator: " "))
        let started = Date()
        let child: TrialProcess
        do {
            child = try TrialProcess(executable: options.executable, arguments: arguments(for: ticket),
                                     environment: options.environment, outputPath: output)
        } catch {
            try study.finish(ticket.number, .failed("\(error)"), trainSeconds: nil)
            return
        }
        defer { if child.exit == nil { child.terminate() } }  // a database error must not leave it running
        try study.started(ticket.number, childPID: child.pid)
        let logPath = (dir as NSString).appendingPathComponent("log.jsonl")
        let reportsMetric = study.settings.objectives[0].isEvaluationMetric
        var reported = Set<Int>(), pruned = false, lastLog: RunLog?, lastSize = -1
        while true {
            let exit = child.poll()
            // The log is read again only when it has grown (a long run's log is not small).
            let size = ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? Int) ?? -1
            if reportsMetric, size != lastSize, let log = try? RunLog(contentsOf: logPath) {
                lastSize = size
                lastLog = log
                // The last evaluation ends the trial anyway: it is recorded, not pruned.
                let lastStep = log.config[HostKeys.table.train.steps.name].flatMap { Int($0) } ?? .max
                for (step, value) in log.metric(study.settings.objectives[0].name) where !reported.contains(step) {
                    reported.insert(step)
                    if try study.report(ticket.number, step: step, value: value), exit == nil, step < lastStep {
                        child.terminate()
                        pruned = true
                        say("trial \(ticket.number): pruned at step \(step) (\(study.settings.objectives[0].name) "
                            + "\(Self.format(value)))")
                        break
                    }
                }
            }
            if pruned || exit != nil { break }
            if isStopping {
                child.terminate()
                try study.release(ticket.number)
                return
            }
            Thread.sleep(forTimeInterval: options.pollInterval)
        }
        let exit = child.wait()
        let log = try? RunLog(contentsOf: logPath)
        let trainSeconds = (log ?? lastLog).flatMap(TrialMeasurement.trainSeconds)
        let seconds = Date().timeIntervalSince(started)
        if pruned {
            try study.finish(ticket.number, .pruned, trainSeconds: trainSeconds)
            lock.withLock { summary.pruned += 1 }
            return
        }
        let outcome = self.outcome(exit: exit, log: log, runDirectory: dir, output: output)
        try study.finish(ticket.number, outcome, trainSeconds: trainSeconds)
        switch outcome {
        case .complete(let values):
            lock.withLock { summary.complete += 1 }
            let text = zip(study.settings.objectives, values).map { "\($0.name) \(Self.format($1))" }.joined(separator: ", ")
            say("trial \(ticket.number): complete, \(text) (\(String(format: "%.1f", seconds)) s)")
        case .failed(let why):
            lock.withLock { summary.failed += 1 }
            say("trial \(ticket.number): failed: \(why)")
        case .pruned:
            break
        }
    }

    /// The outcome of a trial whose child has exited.
    private func outcome(exit: TrialProcess.Exit, log: RunLog?, runDirectory: String, output: String) -> TrialOutcome {
        guard exit.succeeded else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let tail = text.split(separator: "\n").suffix(6).joined(separator: "\n")
            return .failed("autoglm train \(exit)" + (tail.isEmpty ? "" : ":\n" + tail))
        }
        guard let log else { return .failed("the run left no readable log.jsonl in \(runDirectory)") }
        switch TrialMeasurement.values(study.settings.objectives, log: log, runDirectory: runDirectory,
                                       peakResidentBytes: exit.peakResidentBytes) {
        case .success(let values): return .complete(values)
        case .failure(let error): return .failed(error.message)
        }
    }

    /// The child's command line: the study's base config, plugins and overrides, the trial's
    /// parameters, its run directory and its share of the threads.
    private func arguments(for ticket: TrialTicket) -> [String] {
        let settings = study.settings
        var args = ["train", "--quiet"]
        if let config = settings.baseConfig { args += ["--config", config] }
        for dir in settings.pluginDirectories { args += ["--plugins", dir] }
        for o in settings.overrides + ticket.overrides { args += ["--set", o] }
        let runDir = URL(fileURLWithPath: ticket.runDirectory).standardizedFileURL.path
        args += ["--set", "\(HostKeys.table.run.dir.name)=\(runDir)", "--set", "\(HostKeys.table.train.threads.name)=\(threadsPerTrial)"]
        return args
    }

    /// A value as progress lines and `search show` print it: whole numbers whole (a parameter
    /// count), six significant digits from 100 up, four decimals below, four significant
    /// digits under 0.001.
    public static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.0f", value) }
        if abs(value) >= 100 { return String(format: "%.6g", value) }
        return abs(value) >= 1e-3 ? String(format: "%.4f", value) : String(format: "%.4g", value)
    }
}
