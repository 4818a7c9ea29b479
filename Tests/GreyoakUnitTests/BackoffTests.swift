import Synchronization
import Testing
@testable import GreyoakPostgres
@testable import GreyoakIngest

/// A clock that only records: time moves when the loop sleeps (or the test says so).
final class RecordingClock: RetryClock {
    private let state = Mutex((now: 0.0, sleeps: [Double]()))
    func now() -> Double { state.withLock { $0.now } }
    func sleep(_ seconds: Double) {
        state.withLock {
            $0.sleeps.append(seconds)
            $0.now += seconds
        }
    }
    func advance(_ seconds: Double) { state.withLock { $0.now += seconds } }
    var sleeps: [Double] { state.withLock { $0.sleeps } }
}

/// The one retry schedule every loop uses: the pauses it takes and when it gives up.
@Suite("Backoff and RetryDeadline")
struct BackoffTests {
    @Test("pauses double up to the maximum")
    func doubling() {
        let backoff = Backoff(initial: 0.05, maximum: 0.5)
        #expect((1...6).map(backoff.delay(beforeRetry:)) == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5])
        #expect((1...3).map(Backoff.constant(0.25).delay(beforeRetry:)) == [0.25, 0.25, 0.25])
    }

    @Test("jitter stays within its range")
    func jitter() {
        let backoff = Backoff(initial: 1, maximum: 10, jitter: 0.75...1.25)
        for retry in 1...8 {
            let base = min(10, Double(1 << (retry - 1)))
            #expect((base * 0.75...base * 1.25).contains(backoff.delay(beforeRetry: retry)))
        }
    }

    @Test("a deadline: pauses until the time is up, the last one shortened to end there")
    func deadline() {
        let clock = RecordingClock()
        var retry = RetryDeadline(Backoff(initial: 0.5, maximum: 4), seconds: 5, clock: clock)
        while retry.pause() {}
        #expect(clock.sleeps == [0.5, 1, 2, 1.5])
        #expect(retry.retries == 4 && retry.isExhausted && retry.remaining == 0)
    }

    @Test("a retry count: gives up after that many pauses")
    func count() {
        let clock = RecordingClock()
        var retry = RetryDeadline(WriterPool.reconnect, retries: WriterPool.reconnectTries, clock: clock)
        while retry.pause() {}
        #expect(clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
    }

    @Test("time spent in the attempts counts against the deadline")
    func slowAttempts() {
        let clock = RecordingClock()
        var retry = RetryDeadline(.constant(0.25), seconds: 1, clock: clock)
        clock.advance(0.9)
        let pause = retry.next()
        #expect(pause.map { abs($0 - 0.1) < 1e-9 } == true)
        clock.advance(0.2)
        #expect(retry.next() == nil)
    }

    @Test("no time to retry: gives up at once")
    func zero() {
        let clock = RecordingClock()
        var retry = RetryDeadline(TransientFailure.connectBackoff, seconds: 0, clock: clock)
        let paused = retry.pause()
        #expect(!paused)
        #expect(clock.sleeps.isEmpty)
    }
}
