import Dispatch
import Synchronization

/// The load mode of one attempt, set once: asked by the validator with its first rows'
/// dates, answered on the coordinator's thread (whose connection alone may find out which
/// dates `scores` holds), awaited by the validator and the writers.
///
/// Two one-shot signals (Dispatch groups entered once and left once) say that there is a
/// question, and that there is an answer; the values are behind a ``Mutex``.
final class LoadModeGate: Sendable {
    private struct State {
        var question: Set<Int64>?
        var value: LoadMode?
        var cancelled = false
        var asked = false
        var answered = false
    }

    private let state = Mutex(State())
    /// Left once a question is asked, the mode set or the run cancelled.
    private let questionSignal = DispatchGroup()
    /// Left once the mode is set or the run cancelled.
    private let answerSignal = DispatchGroup()

    init() {
        questionSignal.enter()
        answerSignal.enter()
    }

    /// A Dispatch group must not end entered.
    deinit {
        fire(question: true, answer: true) { _ in }
    }

    /// The validator: asks where rows with these scoring dates should go.
    func ask(_ dates: Set<Int64>) {
        fire(question: true, answer: false) { state in
            if state.question == nil { state.question = dates }
        }
    }

    /// The coordinator: the validator's question once asked; nil if the mode was set without
    /// one, or the run was cancelled first.
    func awaitQuestion() -> Set<Int64>? {
        questionSignal.wait()
        return state.withLock { $0.value == nil && !$0.cancelled ? $0.question : nil }
    }

    func set(_ mode: LoadMode) {
        fire(question: true, answer: true) { state in
            if state.value == nil { state.value = mode }
        }
    }

    func cancel() {
        fire(question: true, answer: true) { $0.cancelled = true }
    }

    /// The mode once set; nil if the run was cancelled first.
    func wait() -> LoadMode? {
        answerSignal.wait()
        return state.withLock { $0.value }
    }

    /// Changes the state, then fires the signals asked for that have not fired yet.
    private func fire(question: Bool, answer: Bool, _ change: (inout State) -> Void) {
        let (leaveQuestion, leaveAnswer) = state.withLock { state in
            change(&state)
            let leave = (question && !state.asked, answer && !state.answered)
            state.asked = state.asked || question
            state.answered = state.answered || answer
            return leave
        }
        if leaveQuestion { questionSignal.leave() }
        if leaveAnswer { answerSignal.leave() }
    }
}
