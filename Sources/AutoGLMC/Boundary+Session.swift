import CAutoGLM

extension Boundary {
    /// `run` for a function of a session: looks `handle` up and runs `body` as the one thread
    /// inside the session.
    static func session(_ function: StaticString, _ handle: OpaquePointer?, _ body: (SessionBox) throws -> Void) -> aglm_status {
        run(function) {
            let box = try SessionHandles.box(handle)
            try box.use { try body(box) }
        }
    }

    /// `session` for a function that reads one value of the session into `out`.
    static func read<T>(_ function: StaticString, _ handle: OpaquePointer?, into out: UnsafeMutablePointer<T>?,
                        _ name: String, _ value: (SessionBox) throws -> T) -> aglm_status {
        session(function, handle) { box in
            let out = try CArguments.out(out, name)
            out.pointee = try value(box)
        }
    }
}
