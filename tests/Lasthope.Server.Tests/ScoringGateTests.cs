using Lasthope.Server.Cascade;

namespace Lasthope.Server.Tests;

public class ScoringGateTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AFreedTurn_GoesToAWaitingHeuristicStage_BeforeAnEarlierModelStage()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct); // the only turn is taken

        var model = gate.EnterAsync(Long, Long, ct).AsTask();
        var heuristic = gate.EnterAsync(ct).AsTask();
        Assert.Equal(2, gate.Waiting);

        gate.Exit();
        await heuristic.WaitAsync(Long, ct);
        Assert.False(model.IsCompleted);

        gate.Exit();
        Assert.True(await model.WaitAsync(Long, ct));
        gate.Exit(1);
    }

    [Fact]
    public async Task AModelStage_ThatWaitsPastItsBudget_GivesUp_AndTheTurnIsNotLost()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);

        Assert.False(await gate.EnterAsync(Long, TimeSpan.FromMilliseconds(50), ct));
        Assert.Equal(0, gate.Waiting);

        gate.Exit();
        Assert.True(await gate.EnterAsync(Long, TimeSpan.FromMilliseconds(50), ct)); // free again: taken at once
        gate.Exit(1);
    }

    [Fact]
    public async Task AModelStage_IsRefusedAtOnce_WhenTheExpectedWaitExceedsItsBudget()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);
        gate.Exit(40); // the moving average moves from 1 ms towards 40 ms: 4.9 ms
        await gate.EnterAsync(ct);

        Assert.False(await gate.EnterAsync(Long, TimeSpan.FromMilliseconds(5), ct)); // 4.9 wait + 4.9 stage > 5
        Assert.Equal(0, gate.Waiting);
        gate.Exit();
    }

    [Fact]
    public async Task AModelStage_WaitsNoLongerThanItsLongestWait_EvenWithBudgetLeft()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);

        var waiting = gate.EnterAsync(TimeSpan.FromMilliseconds(20), Long, ct).AsTask();

        Assert.False(await waiting.WaitAsync(Long, ct)); // gave up after 20 ms; the 30 s budget did not keep it queued
        gate.Exit();
    }

    [Fact]
    public async Task ACancelledHeuristicWait_PassesItsTurnOn()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);
        using var cancel = new CancellationTokenSource();
        var abandoned = gate.EnterAsync(cancel.Token).AsTask();
        var next = gate.EnterAsync(ct).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        gate.Exit();

        await next.WaitAsync(Long, ct);
        gate.Exit();
        Assert.True(await gate.EnterAsync(Long, TimeSpan.FromMilliseconds(50), ct));
    }
}

public class BoundedHeuristicWaitTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AHeuristicStage_WithALongestWait_GivesUpWhenNoTurnComes_AndTheTurnIsNotLost()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);

        Assert.False(await gate.EnterHeuristicAsync(TimeSpan.FromMilliseconds(30), ct));
        Assert.Equal(0, gate.Waiting);

        gate.ExitHeuristic(0.2);
        Assert.True(await gate.EnterHeuristicAsync(TimeSpan.FromMilliseconds(30), ct)); // free again: taken at once
        gate.ExitHeuristic(0.2);
    }

    [Fact]
    public async Task AHeuristicStage_IsRefusedAtOnce_WhenTheStagesQueuedBeforeItWouldTakeLonger()
    {
        var gate = new ScoringGate(1);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);
        gate.ExitHeuristic(100.2); // the average moves from 0.2 ms to 10.2 ms
        await gate.EnterAsync(ct);
        var queued = gate.EnterHeuristicAsync(Long, ct).AsTask(); // one waits already: the next would wait about 2 x 10.2 ms

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.False(await gate.EnterHeuristicAsync(TimeSpan.FromMilliseconds(15), ct));
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "refused at once, not after waiting");

        gate.ExitHeuristic(10);
        Assert.True(await queued.WaitAsync(Long, ct));
        gate.ExitHeuristic(10);
    }

    [Fact]
    public async Task EveryWaitForATurn_IsReportedToTheDoorsLimit()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var limit = new AdaptiveLimit(min: 2, max: 100, initial: 100, targetWaitMs: 5, time: clock);
        var gate = new ScoringGate(1, limit);
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(await gate.EnterHeuristicAsync(TimeSpan.FromMilliseconds(20), ct)); // each waited 20 ms for nothing
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.True(limit.Limit < 100, $"limit {limit.Limit}: the waits were not reported");
        Assert.True(limit.AverageWaitMs > 5, $"average wait {limit.AverageWaitMs}");
        gate.ExitHeuristic(0.2);
    }
}
