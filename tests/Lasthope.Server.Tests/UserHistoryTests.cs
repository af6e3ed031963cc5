using Lasthope.Server.State;

namespace Lasthope.Server.Tests;

public sealed class UserHistoryTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Latest_IsTheUsersEventsNewestFirst_WithWeights_WithinTheWindow_UpToTheLimit()
    {
        var history = new UserHistory(capacity: 100, eventsPerUser: 50);
        history.Record("u", "too-old", 1, Now - TimeSpan.FromDays(31));
        for (var e = 0; e < 60; e++)
        {
            history.Record("u", $"item-{e}", e % 3, Now.AddSeconds(e)); // the ring grows from 4 slots, then wraps at 50
        }

        history.Record("other", "x", 1, Now);
        var latest = history.Latest("u", Now.AddHours(1), 100);
        Assert.Equal(50, latest.Count);
        Assert.Equal(Enumerable.Range(10, 50).Reverse().Select(e => $"item-{e}"), latest.Select(e => e.ItemId));
        Assert.Equal(Enumerable.Range(10, 50).Reverse().Select(e => (double)(e % 3)), latest.Select(e => e.Weight));
        Assert.Equal(["item-59", "item-58"], history.Latest("u", Now.AddHours(1), 2).Select(e => e.ItemId));
        Assert.Empty(history.Latest("u", Now.AddDays(40), 10));
        Assert.Empty(history.Latest("nobody", Now, 10));

        // The features read clicks: events of weight 0 are not among them.
        var clicks = new string?[UserHistory.PerUser];
        var n = history.Recent("u", Now.AddHours(1), clicks);
        Assert.Equal(UserHistory.PerUser, n);
        Assert.Equal(["item-59", "item-58", "item-56"], clicks[..3]);
        Assert.DoesNotContain("item-57", clicks);
    }

    [Fact]
    public void WhatIsWritten_ReadsBack_WithTheWeights()
    {
        var history = new UserHistory(capacity: 100, eventsPerUser: 40);
        for (var e = 0; e < 45; e++)
        {
            history.Record($"u{e % 3}", $"item-{e}", e * 0.5, Now.AddMinutes(e));
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            history.WriteTo(writer);
        }

        buffer.Position = 0;
        var read = history.CreateEmpty();
        read.ReadFrom(new BinaryReader(buffer));
        var restored = new UserHistory(capacity: 100, eventsPerUser: 40);
        restored.ReplaceWith(read);
        foreach (var user in new[] { "u0", "u1", "u2" })
        {
            Assert.Equal(history.Latest(user, Now.AddDays(1), 100), restored.Latest(user, Now.AddDays(1), 100));
            Assert.Equal(15, restored.Latest(user, Now.AddDays(1), 100).Count);
        }
    }

    [Fact]
    public void EventsInAll_AreBounded_ByCapacityTimesPerUser()
    {
        // Two users' worth: 64 slots in all. One busy user filling a ring of 200 leaves no room for a new one.
        var history = new UserHistory(capacity: 2, eventsPerUser: 200);
        for (var e = 0; e < 200; e++)
        {
            history.Record("busy", $"item-{e}", 1, Now);
        }

        history.Record("new", "a", 1, Now);
        Assert.Equal(1, history.Count);
        Assert.Single(history.Latest("new", Now, 10));
        Assert.Empty(history.Latest("busy", Now, 10));
    }
}
