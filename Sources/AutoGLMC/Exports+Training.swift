import AutoGLM
import CAutoGLM

// Training, evaluation and the latest metrics (autoglm.h documents each function).

/// aglm_session_train.
@c(aglm_session_train)
public func aglmSessionTrain(_ session: OpaquePointer?, _ steps: Int64, _ result: UnsafeMutablePointer<aglm_train_result>?) -> aglm_status {
    Boundary.session("aglm_session_train", session) { box in
        guard steps >= Int64(AGLM_TRAIN_REMAINING) else {
            throw APIError.invalid("steps is \(steps): give a number of steps >= 0, or AGLM_TRAIN_REMAINING (-1) for the rest of train.steps")
        }
        if let result { _ = try StructLayout.declared(UnsafePointer(result), "result") }
        box.metricsChange()
        let trained = try box.session.train(steps: steps == Int64(AGLM_TRAIN_REMAINING) ? nil : Int(steps))
        guard let result else { return }
        var out = Defaults.trainResult
        out.steps = Int64(trained.steps)
        out.final_loss = trained.finalLoss
        out.seconds = trained.seconds
        out.train_seconds = trained.trainSeconds
        out.stopped_early = trained.stoppedEarly ? 1 : 0
        try StructLayout.write(out, to: result, "result")
    }
}

/// aglm_session_evaluate.
@c(aglm_session_evaluate)
public func aglmSessionEvaluate(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> aglm_status {
    Boundary.session("aglm_session_evaluate", session) { box in
        box.metricsChange()
        let metrics = try box.session.evaluate()
        box.metricsChange(to: metrics)
        count?.pointee = metrics.count
    }
}

/// aglm_session_metric_count.
@c(aglm_session_metric_count)
public func aglmSessionMetricCount(_ session: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> aglm_status {
    Boundary.read("aglm_session_metric_count", session, into: count, "count") { $0.metrics.count }
}

/// aglm_session_metric.
@c(aglm_session_metric)
public func aglmSessionMetric(_ session: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                              _ value: UnsafeMutablePointer<Double>?) -> aglm_status {
    Boundary.session("aglm_session_metric", session) { box in
        let metrics = box.metrics
        let metric = metrics[try CArguments.index(index, count: metrics.count, "metrics")]
        name?.pointee = metric.name
        value?.pointee = metric.value
    }
}
