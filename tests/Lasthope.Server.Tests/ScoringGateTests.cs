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
