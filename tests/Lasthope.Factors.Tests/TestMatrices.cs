using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

/// <summary>Small matrices with known structure.</summary>
internal static class TestMatrices
{
    /// <summary>
    /// A planted block structure: users and items fall into <paramref name="clusters"/> groups, and each user used
    /// each item of its own group with probability <paramref name="density"/> and no other item. The true
    /// preference matrix has rank <paramref name="clusters"/>.
    /// </summary>
    public static (InteractionMatrix Data, int[] UserCluster, int[] ItemCluster) Planted(int users, int items, int clusters, double density, int seed)
    {
        var random = new Random(seed);
        var userCluster = new int[users];
        var itemCluster = new int[items];
        for (var u = 0; u < users; u++)
        {
            userCluster[u] = u % clusters;
        }

        for (var i = 0; i < items; i++)
        {
            itemCluster[i] = i % clusters;
        }

        var triples = new List<(string, string, float)>();
        for (var u = 0; u < users; u++)
        {
            for (var i = 0; i < items; i++)
            {
                if (itemCluster[i] == userCluster[u] && random.NextDouble() < density)
                {
                    triples.Add(($"u{u}", $"i{i}", 1f));
                }
            }
        }

        // Make sure every user and item appears, in index order, so that ids map to indices u and i.
        var builder = new InteractionLogBuilder(
            IdMap.Create(Enumerable.Range(0, users).Select(u => $"u{u}")),
            IdMap.Create(Enumerable.Range(0, items).Select(i => $"i{i}")));
        foreach (var (u, i, w) in triples)
        {
            builder.Add(u, i, w);
        }

        return (builder.Build().ToMatrix(), userCluster, itemCluster);
    }

    /// <summary>A random sparse matrix with positive weights in [1, 5].</summary>
    public static InteractionMatrix Random(int users, int items, double density, int seed)
    {
        var random = new Random(seed);
        var builder = new InteractionLogBuilder(
            IdMap.Create(Enumerable.Range(0, users).Select(u => $"u{u}")),
            IdMap.Create(Enumerable.Range(0, items).Select(i => $"i{i}")));
        for (var u = 0; u < users; u++)
        {
            for (var i = 0; i < items; i++)
            {
                if (random.NextDouble() < density)
                {
                    builder.Add($"u{u}", $"i{i}", 1 + random.Next(5));
                }
            }
        }

        return builder.Build().ToMatrix();
    }

    public static InteractionMatrix FromTriples(params (string User, string Item, float Weight)[] triples) =>
        InteractionMatrix.FromInteractions(triples);
}
