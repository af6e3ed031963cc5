using System.Globalization;

namespace Lasthope.Simulation.Internal;

/// <summary>The fixed parameters of an item, a pure function of (seed, index). Times are in days since the start.</summary>
internal readonly struct ItemParams
{
    public required int Category { get; init; }

    public required double Quality { get; init; }

    /// <summary>Log-price relative to the category's level, in standard deviations: an expensive item of its kind is positive.</summary>
    public required double RelativePrice { get; init; }

    public required double Price { get; init; }

    public required double QualitySignal { get; init; }

    public required double Birth { get; init; }

    /// <summary>Publication time in ticks since the start; <see cref="long.MaxValue"/> for never.</summary>
    public required long BirthTicks { get; init; }

    /// <summary>First day on which the item is no longer live; <see cref="int.MaxValue"/> for never.</summary>
    public required int RetireDay { get; init; }

    public required double DriftFrequency1 { get; init; }

    public required double DriftPhase1 { get; init; }

    public required double DriftFrequency2 { get; init; }

    public required double DriftPhase2 { get; init; }
}

/// <summary>A prefix of the catalogue: the parameters and ids of items 0..Count-1. Never mutated once published.</summary>
internal sealed class ItemSnapshot(ItemParams[] items, string[] ids, int count)
{
    public ItemParams[] Params { get; } = items;

    public string[] Ids { get; } = ids;

    public int Count { get; } = count;
}

/// <summary>
/// The catalogue, grown on demand. Item i's parameters depend only on (seed, i), so growing it in any order, on any
/// thread, yields the same items. Readers hold a snapshot; growth copies into new arrays and publishes them.
/// </summary>
internal sealed class Catalogue
{
    /// <summary>A guard against runaway growth (a query a century ahead at 100,000 items a day).</summary>
    private const int MaxItems = 50_000_000;

    private const double PriceSpread = 0.5;

    private readonly SimulationOptions _options;
    private readonly double[] _categoryLogPrice;
    private readonly Lock _gate = new();
    private volatile ItemSnapshot _snapshot = new([], [], 0);

    public Catalogue(SimulationOptions options)
    {
        _options = options;
        var rng = Keys.Random(options.Seed, Stream.World, 1);
        _categoryLogPrice = new double[options.CategoryCount];
        for (var c = 0; c < _categoryLogPrice.Length; c++)
        {
            // Category price levels from about 7 to 150.
            _categoryLogPrice[c] = 2.0 + (3.0 * rng.NextDouble());
        }
    }

    /// <summary>Number of items published before day <paramref name="dayEnd"/> starts: items past it are all published later.</summary>
    public long CountBornBefore(int dayEnd) =>
        dayEnd <= 0 ? _options.InitialItemCount : _options.InitialItemCount + ((long)_options.NewItemsPerDay * dayEnd);

    /// <summary>Parses an id made by this catalogue (<c>item-{index}</c>); -1 when it is not one.</summary>
    public static int ParseId(string id)
    {
        const string Prefix = "item-";
        if (id is null || !id.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var digits = id.AsSpan(Prefix.Length);
        if (digits.Length is 0 or > 9 || (digits.Length > 1 && digits[0] == '0'))
        {
            return -1;
        }

        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
    }

    public ItemSnapshot Ensure(long count)
    {
        var current = _snapshot;
        if (current.Count >= count)
        {
            return current;
        }

        if (count > MaxItems)
        {
            throw new InvalidOperationException($"The simulation would need {count:N0} items; the limit is {MaxItems:N0}.");
        }

        lock (_gate)
        {
            current = _snapshot;
            if (current.Count >= count)
            {
                return current;
            }

            var capacity = (int)Math.Min(MaxItems, Math.Max(count, Math.Max(1024, (long)current.Count * 2)));
            var items = new ItemParams[capacity];
            var ids = new string[capacity];
            current.Params.AsSpan(0, current.Count).CopyTo(items);
            current.Ids.AsSpan(0, current.Count).CopyTo(ids);
            for (var i = current.Count; i < capacity; i++)
            {
                items[i] = Create(i);
                ids[i] = string.Create(CultureInfo.InvariantCulture, $"item-{i}");
            }

            var next = new ItemSnapshot(items, ids, capacity);
            _snapshot = next;
            return next;
        }
    }

    private ItemParams Create(int index)
    {
        var o = _options;
        var rng = Keys.Random(o.Seed, Stream.Item, index);
        var category = rng.NextInt(o.CategoryCount);
        var quality = o.QualitySpread * rng.NextGaussian();
        var relativePrice = rng.NextGaussian();
        var price = Math.Round(Math.Exp(_categoryLogPrice[category] + (PriceSpread * relativePrice)), 2);
        var signal = Math.Round(Math.Clamp(3.5 + quality + (o.QualitySignalNoise * rng.NextGaussian()), 1.0, 5.0), 1);

        // Initial items were published uniformly over the span before the start; later ones at jittered, evenly spaced
        // times, k of them by day k / n, so exactly n are published on each day.
        var u = rng.NextDouble();
        double birth;
        if (index < o.InitialItemCount)
        {
            birth = -o.InitialItemAgeSpan.TotalDays * u;
        }
        else if (o.NewItemsPerDay > 0)
        {
            birth = (index - o.InitialItemCount + u) / o.NewItemsPerDay;
        }
        else
        {
            // Never published: only reachable by parsing an id past the initial catalogue.
            birth = double.PositiveInfinity;
        }

        // Publication falls on a tick, and liveness compares tick counts scaled the same way, so an item is live from
        // exactly its published time.
        var birthTicks = double.IsFinite(birth) ? (long)Math.Ceiling(birth * TimeSpan.TicksPerDay) : long.MaxValue;
        if (double.IsFinite(birth))
        {
            birth = (double)birthTicks / TimeSpan.TicksPerDay;
        }

        var retireDay = o.ItemLifetime is { } lifetime
            ? (int)Math.Min(int.MaxValue - 1, Math.Ceiling(birth + lifetime.TotalDays))
            : int.MaxValue;

        // Two sinusoids with periods of 20 to 90 days and random phases: a smooth curve of variance 1.
        var period1 = 20.0 + (70.0 * rng.NextDouble());
        var period2 = 20.0 + (70.0 * rng.NextDouble());
        return new ItemParams
        {
            Category = category,
            Quality = quality,
            RelativePrice = relativePrice,
            Price = price,
            QualitySignal = signal,
            Birth = birth,
            BirthTicks = birthTicks,
            RetireDay = retireDay,
            DriftFrequency1 = 2.0 * Math.PI / period1,
            DriftPhase1 = 2.0 * Math.PI * rng.NextDouble(),
            DriftFrequency2 = 2.0 * Math.PI / period2,
            DriftPhase2 = 2.0 * Math.PI * rng.NextDouble(),
        };
    }
}
