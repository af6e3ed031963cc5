using System.Reflection;
using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Ranking;
using Lasthope.Server.State;

namespace Lasthope.Server.Tests;

public class SegmentResolverTests
{
    [Fact]
    public async Task AStoreThatIsSlowToNameTheSegment_DoesNotHoldTheRequest_AndItsAnswerServesTheNextOne()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new InMemoryEventStore();
        await store.AppendRankingsAsync([new RankingLog { RequestId = "r0", Time = DateTimeOffset.UnixEpoch, UserId = "u1", Segment = "f:25-34", Surface = "home", Items = [new ServedItem("a", 1, 0, ItemSource.Heuristic)] }], ct);
        using var release = new SemaphoreSlim(0);
        var users = new UserSegments();
        var resolver = new SegmentResolver(SegmentScheme.Default, users, SlowLookups.Wrap(store, release), TimeSpan.FromMilliseconds(20));

        var notes = new List<string>();
        var first = await resolver.ResolveAsync("u1", null, null, null, notes, ct);

        Assert.Equal(SegmentScheme.Unknown, first);
        Assert.Contains("store_slow", notes);
        release.Release(); // the store answers after all
        for (var i = 0; i < 200 && users.Find("u1") is null; i++)
        {
            await Task.Delay(10, ct);
        }

        notes.Clear();
        Assert.Equal("f:25-34", await resolver.ResolveAsync("u1", null, null, null, notes, ct));
        Assert.Empty(notes);
    }

    [Fact]
    public async Task AStoreThatAnswersInTime_NamesTheSegment_AtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new InMemoryEventStore();
        await store.AppendRankingsAsync([new RankingLog { RequestId = "r0", Time = DateTimeOffset.UnixEpoch, UserId = "u1", Segment = "m:55+", Surface = "home", Items = [new ServedItem("a", 1, 0, ItemSource.Heuristic)] }], ct);
        var resolver = new SegmentResolver(SegmentScheme.Default, new UserSegments(), store, TimeSpan.FromSeconds(5));

        var notes = new List<string>();
        Assert.Equal("m:55+", await resolver.ResolveAsync("u1", null, null, null, notes, ct));
        Assert.Empty(notes);
    }

    /// <summary>A store whose segment lookups wait for a signal (a database stuck behind a checkpoint); the rest passes through.</summary>
    public class SlowLookups : DispatchProxy
    {
        private IEventStore _inner = null!;
        private SemaphoreSlim _release = null!;

        public static IEventStore Wrap(IEventStore inner, SemaphoreSlim release)
        {
            var proxy = Create<IEventStore, SlowLookups>();
            var slow = (SlowLookups)(object)proxy;
            slow._inner = inner;
            slow._release = release;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            return targetMethod.Name == nameof(IEventStore.FindUserSegmentAsync)
                ? LookUpLaterAsync((string)args![0]!)
                : targetMethod.Invoke(_inner, args);
        }

        private async Task<string?> LookUpLaterAsync(string userId)
        {
            await _release.WaitAsync();
            return await _inner.FindUserSegmentAsync(userId);
        }
    }
}
