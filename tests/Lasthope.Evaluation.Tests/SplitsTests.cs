using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public class SplitsTests
{
    [Fact]
    public void PerUserHoldout_HoldsOutTheRoundedFraction_KeepingAtLeastOneItem()
    {
        // User 0: 4 items, user 1: 3 items, user 2: 1 item.
        int[] users = [0, 0, 0, 0, 1, 1, 1, 2];
        int[] items = [0, 1, 2, 3, 0, 1, 2, 0];
        var test = Splits.PerUserHoldout(users, items, 0.5, seed: 1);
        Assert.Equal(2, Count(test, users, 0));
        Assert.Equal(2, Count(test, users, 1)); // round(1.5) = 2, and 1 stays in training
        Assert.Equal(0, Count(test, users, 2));
    }

    [Fact]
    public void PerUserHoldout_MovesEveryEventOfAHeldOutPair()
    {
        int[] users = [0, 0, 0, 0, 0, 0];
        int[] items = [5, 6, 5, 7, 5, 6];
        for (var seed = 0; seed < 20; seed++)
        {
            var test = Splits.PerUserHoldout(users, items, 0.3, seed);
            for (var a = 0; a < items.Length; a++)
            {
                for (var b = 0; b < items.Length; b++)
                {
                    if (items[a] == items[b])
                    {
                        Assert.Equal(test[a], test[b]);
                    }
                }
            }
        }
    }

    [Fact]
    public void PerUserHoldout_IsDeterministic_AndIndependentOfLogOrder()
    {
        var random = new Random(3);
        var events = Enumerable.Range(0, 400).Select(_ => (User: random.Next(30), Item: random.Next(50))).ToArray();
        var shuffled = events.OrderBy(_ => random.Next()).ToArray();
        var a = TestPairs(events, Splits.PerUserHoldout(events.Select(e => e.User).ToArray(), events.Select(e => e.Item).ToArray(), 0.25, seed: 9));
        var b = TestPairs(shuffled, Splits.PerUserHoldout(shuffled.Select(e => e.User).ToArray(), shuffled.Select(e => e.Item).ToArray(), 0.25, seed: 9));
        var c = TestPairs(events, Splits.PerUserHoldout(events.Select(e => e.User).ToArray(), events.Select(e => e.Item).ToArray(), 0.25, seed: 10));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void LeaveLastK_HoldsOutTheMostRecentItems_ByTheirLatestEvent()
    {
        int[] users = [0, 0, 0, 0, 0];
        int[] items = [1, 2, 3, 1, 4];
        long[] times = [10, 20, 30, 40, 5];
        var test = Splits.LeaveLastK(users, items, times, k: 2);
        // Item 1's latest event (40) and item 3 (30) are the two most recent; both events of item 1 go.
        Assert.Equal([true, false, true, true, false], test);
    }

    [Fact]
    public void LeaveLastK_BreaksEqualTimesByLogOrder_AndKeepsATrainingItem()
    {
        int[] users = [0, 0, 1, 1];
        int[] items = [1, 2, 1, 2];
        long[] times = [7, 7, 1, 2];
        Assert.Equal([false, true, false, true], Splits.LeaveLastK(users, items, times, k: 1));
        Assert.Equal([false, true, false, true], Splits.LeaveLastK(users, items, times, k: 5));
    }

    [Fact]
    public void HoldOutUsers_IsSeeded_AndRoughlyTheFraction()
    {
        var a = Splits.HoldOutUsers(10_000, 0.2, seed: 4);
        Assert.Equal(a, Splits.HoldOutUsers(10_000, 0.2, seed: 4));
        Assert.InRange(a.Count(x => x), 1800, 2200);
    }

    [Fact]
    public void FromSplit_MakesKnownAndRelevantSets_AndDropsUsersWithoutTestItems()
    {
        int[] users = [0, 0, 0, 1, 1, 2];
        int[] items = [4, 2, 4, 3, 1, 9];
        float[] weights = [1, 2, 3, 1, 1, 1];
        bool[] test = [false, true, false, false, true, false];
        var evaluation = EvaluationUser.FromSplit(users, items, weights, test);
        Assert.Equal(2, evaluation.Count);
        Assert.Equal(0, evaluation[0].User);
        Assert.Equal([4], evaluation[0].Known);
        Assert.Equal([4f], evaluation[0].KnownWeights);
        Assert.Equal([2], evaluation[0].Relevant);
        Assert.Equal([3], evaluation[1].Known);
        Assert.Equal([1], evaluation[1].Relevant);
    }

    private static int Count(bool[] test, int[] users, int user) => test.Where((t, k) => t && users[k] == user).Count();

    private static HashSet<(int, int)> TestPairs((int User, int Item)[] events, bool[] test) =>
        events.Where((_, k) => test[k]).ToHashSet();
}
