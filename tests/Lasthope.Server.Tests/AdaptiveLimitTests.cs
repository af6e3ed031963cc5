using CsCheck;
using Lasthope.Server.Cascade;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

public class AdaptiveLimitTests
{
    [Fact]
    public void AStandingQueue_ShrinksTheLimit_ByATenthPerCooldown_DownToTheFloor()
    {
        var clock = new FakeTimeProvider();
        var limit = new AdaptiveLimit(min: 8, max: 100, initial: 100, targetWaitMs: 5, time: clock);

        for (var i = 0; i < 100; i++)
        {
            limit.Observe(50); // within one cool-down: the average passes the target, one decrease at most
        }

        Assert.Equal(90, limit.Limit);
        for (var step = 0; step < 100; step++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            limit.Observe(50);
        }

        Assert.Equal(8, limit.Limit);
    }

    [Fact]
    public void OneSlowRequest_AmongQuickOnes_DoesNotShrinkTheLimit()
    {
        var clock = new FakeTimeProvider();
        var limit = new AdaptiveLimit(min: 8, max: 100, initial: 50, targetWaitMs: 5, time: clock);
        for (var i = 0; i < 1_000; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            limit.Observe(i % 100 == 0 ? 60 : 0.5); // 1 % at 60 ms: the smoothed wait stays about 1 ms
        }

        Assert.True(limit.Limit >= 50, $"limit {limit.Limit}");
    }

    [Fact]
    public void ShortWaits_GrowTheLimit_OnlyWhileItIsInUse()
    {
        var limit = new AdaptiveLimit(min: 4, max: 64, initial: 10, targetWaitMs: 5, time: new FakeTimeProvider());
        for (var i = 0; i < 1_000; i++)
        {
            limit.Observe(0); // nobody inside: the limit is not what holds anyone back
        }

        Assert.Equal(10, limit.Limit);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(limit.TryAcquire());
        }

        Assert.False(limit.TryAcquire());
        for (var i = 0; i < 1_000; i++)
        {
            limit.Observe(0);
        }

        // About one more per limit's worth of requests while at least half is taken: 10 inside hold it up to 20.
        Assert.Equal(20, limit.Limit);
        Assert.True(limit.TryAcquire());
    }

    [Fact]
    public void TheDoor_LetsInNoMoreThanTheLimit_AndReleasesEveryPlace()
    {
        Gen.Int[1, 50].Select(Gen.Int[0, 200]).Sample((max, attempts) =>
        {
            var limit = new AdaptiveLimit(min: 1, max: max, initial: max, targetWaitMs: 5, time: new FakeTimeProvider());
            var admitted = 0;
            for (var i = 0; i < attempts; i++)
            {
                admitted += limit.TryAcquire() ? 1 : 0;
            }

            Assert.Equal(Math.Min(max, attempts), admitted);
            Assert.Equal(admitted, limit.InFlight);
            for (var i = 0; i < admitted; i++)
            {
                limit.Release();
            }

            Assert.Equal(0, limit.InFlight);
            Assert.True(limit.TryAcquire());
        });
    }

    [Fact]
    public void TheLimit_StaysWithinItsBounds_WhateverTheWaits()
    {
        Gen.Double[0, 200].Array[0, 500].Sample(waits =>
        {
            var clock = new FakeTimeProvider();
            var limit = new AdaptiveLimit(min: 3, max: 40, initial: 20, targetWaitMs: 5, time: clock);
            foreach (var wait in waits)
            {
                clock.Advance(TimeSpan.FromMilliseconds(3));
                limit.Observe(wait);
                Assert.InRange(limit.Limit, 3, 40);
            }
        });
    }
}
