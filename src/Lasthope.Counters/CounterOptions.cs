using System.ComponentModel.DataAnnotations;
using Lasthope.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Lasthope.Counters;

/// <summary>Configuration of the windowed CTR counters (section <c>Lasthope:Counters</c>).</summary>
public sealed class CounterOptions : IValidatableObject
{
    /// <summary>Width of an event-time bucket. Default one day.</summary>
    public TimeSpan BucketSize { get; init; } = TimeSpan.FromDays(1);

    /// <summary>The short window (the "weekly CTR" and the trend). Default 7 days; a whole number of buckets.</summary>
    public TimeSpan ShortWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The long window (the "monthly CTR"). Default 30 days; a whole number of buckets. Older buckets are dropped.</summary>
    public TimeSpan LongWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Strength of the empirical-Bayes prior, in pseudo-impressions: an estimate moves halfway from its prior to the
    /// observed rate after this many impressions. Default 50.
    /// </summary>
    public double PriorStrength { get; init; } = 50;

    /// <summary>The CTR assumed before any data at all (the prior of the global rate). Default 0.02.</summary>
    public double BaseCtr { get; init; } = 0.02;

    /// <summary>
    /// Divide clicks by expected clicks (impressions weighted by the position-bias curve) instead of by impressions.
    /// Turn it on when items are shown at positions that depend on how they were ranked (the usual case), so that
    /// an item is not credited for its slot; leave it off for logs from uniformly random placement, where raw CTR is
    /// already unbiased. Default off.
    /// </summary>
    public bool PositionDebiasing { get; init; }

    /// <summary>Positions tracked individually for the position-bias curve; deeper positions share the last value.</summary>
    public int MaxTrackedPosition { get; init; } = 50;

    internal int ShortBuckets => (int)(ShortWindow.Ticks / BucketSize.Ticks);

    internal int LongBuckets => (int)(LongWindow.Ticks / BucketSize.Ticks);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BucketSize <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Counters:BucketSize must be positive.", [nameof(BucketSize)]);
            yield break;
        }

        if (ShortWindow.Ticks % BucketSize.Ticks != 0 || LongWindow.Ticks % BucketSize.Ticks != 0)
        {
            yield return new ValidationResult("Counters:ShortWindow and Counters:LongWindow must be whole multiples of Counters:BucketSize.", [nameof(BucketSize)]);
            yield break;
        }

        if (ShortBuckets < 2)
        {
            yield return new ValidationResult("Counters:ShortWindow must span at least two buckets (the trend compares its halves).", [nameof(ShortWindow)]);
            yield break;
        }

        if (LongBuckets < ShortBuckets)
        {
            yield return new ValidationResult("Counters:LongWindow must be at least Counters:ShortWindow.", [nameof(LongWindow)]);
            yield break;
        }

        if (LongBuckets > 10_000)
        {
            yield return new ValidationResult("Counters:LongWindow / Counters:BucketSize must be at most 10,000 buckets.", [nameof(LongWindow)]);
            yield break;
        }

        if (!double.IsFinite(PriorStrength) || PriorStrength <= 0)
        {
            yield return new ValidationResult("Counters:PriorStrength must be a positive number.", [nameof(PriorStrength)]);
            yield break;
        }

        if (!double.IsFinite(BaseCtr) || BaseCtr is <= 0 or >= 1)
        {
            yield return new ValidationResult("Counters:BaseCtr must be in (0, 1).", [nameof(BaseCtr)]);
            yield break;
        }

        if (MaxTrackedPosition is < 1 or > 10_000)
        {
            yield return new ValidationResult("Counters:MaxTrackedPosition must be in [1, 10000].", [nameof(MaxTrackedPosition)]);
            yield break;
        }
    }
}

/// <summary>The validation of <see cref="CounterOptions"/>, generated at compile time.</summary>
[OptionsValidator]
public sealed partial class CounterOptionsValidator : IValidateOptions<CounterOptions>
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    public static void ThrowIfInvalid(CounterOptions options) => new CounterOptionsValidator().Validate(null, options).ThrowIfFailed();
}

/// <summary>The validation of <see cref="HeuristicOptions"/>, generated at compile time.</summary>
[OptionsValidator]
public sealed partial class HeuristicOptionsValidator : IValidateOptions<HeuristicOptions>
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    public static void ThrowIfInvalid(HeuristicOptions options) => new HeuristicOptionsValidator().Validate(null, options).ThrowIfFailed();
}
