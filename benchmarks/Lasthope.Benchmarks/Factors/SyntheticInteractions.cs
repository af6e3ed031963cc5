using Lasthope.Factors;

namespace Lasthope.Benchmarks.Factors;

/// <summary>The shape of a public implicit-feedback data set: what the ALS benchmarks generate data like.</summary>
public sealed record DataShape(string Name, int Users, int Items, int Interactions)
{
    public static DataShape MovieLens1M { get; } = new("movielens-1m", 6_040, 3_706, 1_000_209);

    /// <summary>MovieLens-20M restricted to ratings of 4 and more, as in implicit's benchmark.</summary>
    public static DataShape MovieLens20M { get; } = new("movielens-20m", 138_000, 27_000, 10_000_000);

    public static DataShape LastFm360K { get; } = new("lastfm-360k", 359_000, 292_000, 17_500_000);

    public static IReadOnlyList<DataShape> All { get; } = [MovieLens1M, MovieLens20M, LastFm360K];

    public double Density => (double)Interactions / ((double)Users * Items);
}

/// <summary>
/// Synthetic interactions with the shape and skew of real data: item popularity follows a Zipf law (exponent 0.8,
/// offset 10, so the head is heavy but no item is used by everyone), user activity is log-normal (sigma 1) scaled to
/// the set's mean, each user's items are distinct, and every weight is 1. Seeded and deterministic.
/// </summary>
public static class SyntheticInteractions
{
    public static InteractionMatrix Generate(DataShape shape, int seed = 42)
    {
        var random = new Random(seed);
        var cdf = new double[shape.Items];
        var total = 0.0;
        for (var i = 0; i < shape.Items; i++)
        {
            total += 1.0 / Math.Pow(i + 10, 0.8);
            cdf[i] = total;
        }

        // Log-normal activity with sigma 1, scaled so the counts add up to the target.
        var raw = new double[shape.Users];
        var sum = 0.0;
        for (var u = 0; u < shape.Users; u++)
        {
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            raw[u] = Math.Exp(z);
            sum += raw[u];
        }

        // Heavy users are capped at a quarter of the catalogue; rescale until the capped counts reach the target.
        var counts = new int[shape.Users];
        var cap = Math.Max(1, shape.Items / 4);
        var scale = shape.Interactions / sum;
        for (var pass = 0; pass < 20; pass++)
        {
            long capped = 0;
            for (var u = 0; u < shape.Users; u++)
            {
                counts[u] = Math.Clamp((int)Math.Round(raw[u] * scale), 1, cap);
                capped += counts[u];
            }

            if (Math.Abs(capped - shape.Interactions) < shape.Interactions / 1000)
            {
                break;
            }

            scale *= (double)shape.Interactions / capped;
        }

        var users = new int[counts.Sum()];
        var items = new int[users.Length];
        var offsets = new int[shape.Users + 1];
        for (var u = 0; u < shape.Users; u++)
        {
            offsets[u + 1] = offsets[u] + counts[u];
        }

        Parallel.For(0, shape.Users, u =>
        {
            // Not HashCode.Combine: .NET randomises it per process, so every run drew different data.
            var rng = new Random(unchecked((seed * 1_000_003) + u));
            var chosen = new HashSet<int>();
            var start = offsets[u];
            while (chosen.Count < counts[u])
            {
                var x = rng.NextDouble() * total;
                var index = Array.BinarySearch(cdf, x);
                chosen.Add(index < 0 ? Math.Min(~index, shape.Items - 1) : index);
            }

            var k = start;
            foreach (var item in chosen)
            {
                users[k] = u;
                items[k] = item;
                k++;
            }
        });

        var weights = new float[users.Length];
        Array.Fill(weights, 1f);
        var userIds = IdMap.Create(Enumerable.Range(0, shape.Users).Select(u => "u" + u));
        var itemIds = IdMap.Create(Enumerable.Range(0, shape.Items).Select(i => "i" + i));
        return new InteractionMatrix(userIds, itemIds, CsrMatrix.FromCoordinates(shape.Users, shape.Items, users, items, weights));
    }
}
