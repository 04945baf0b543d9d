import Foundation
import Testing
@testable import Assignments

/// The expiry loop sleeps through changes that fall due after it means to wake, and wakes for one before.
@Suite(.timeLimit(.minutes(1))) struct ExpiryAlarmTests {
    @Test func onlyALeaseDueBeforeTheWakeUpWakesTheLoop() async {
        let alarm = ExpiryAlarm()
        let now = Date()
        let seen = alarm.look()
        let sleeping = Task { await alarm.sleep(seconds: 3600, unlessChangedAfter: seen, now: now) }
        while !alarm.isSleeping { await Task.yield() }
        #expect(!alarm.ring(expiresAt: now.addingTimeInterval(7200)))
        #expect(!alarm.ring(expiresAt: nil))
        #expect(alarm.isSleeping)
        #expect(alarm.ring(expiresAt: now.addingTimeInterval(60)))
        #expect(await endsBeforeDeadline { await sleeping.value })
    }

    @Test func aLeaseDueEarlierThatChangedBeforeTheSleepIsNotMissed() async {
        let alarm = ExpiryAlarm()
        let now = Date()
        let seen = alarm.look()
        // Between the loop's read of the next expiry and its sleep: nobody sleeps yet to be woken.
        #expect(!alarm.ring(expiresAt: now.addingTimeInterval(60)))
        #expect(await endsBeforeDeadline { await alarm.sleep(seconds: 3600, unlessChangedAfter: seen, now: now) })
    }

    @Test func aChangeTheLoopHasReadDoesNotWakeItAgain() async {
        let alarm = ExpiryAlarm()
        let now = Date()
        alarm.ring(expiresAt: now.addingTimeInterval(60))
        let seen = alarm.look()
        let sleeping = Task { await alarm.sleep(seconds: 30, unlessChangedAfter: seen, now: now) }
        while !alarm.isSleeping { await Task.yield() }
        sleeping.cancel()
        await sleeping.value
        #expect(!alarm.isSleeping)
    }
}
