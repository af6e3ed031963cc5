namespace Lasthope.Counters;

/// <summary>How much an estimate rests on the item's own data.</summary>
public enum EstimateLevel : byte
{
    /// <summary>No data on the item: the estimate is the prior (the segment's or the global CTR).</summary>
    Prior,

    /// <summary>Data on the item overall but not in this segment: the item's rate, scaled to the segment.</summary>
    Item,

    /// <summary>Data on the item in this segment.</summary>
    Segment,
}

/// <summary>Smoothed CTR estimates of one item for one segment.</summary>
/// <param name="Ctr7d">CTR over the short window (7 days by default), smoothed.</param>
/// <param name="Ctr30d">CTR over the long window (30 days by default), smoothed.</param>
/// <param name="Trend">Smoothed CTR of the newer half of the short window minus that of the older half.</param>
/// <param name="Level">How much of the estimate comes from the item's own data.</param>
public readonly record struct CtrEstimate(double Ctr7d, double Ctr30d, double Trend, EstimateLevel Level);
