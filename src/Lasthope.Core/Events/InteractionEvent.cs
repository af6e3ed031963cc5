using System.ComponentModel.DataAnnotations;

namespace Lasthope.Core.Events;

/// <summary>
/// A user interaction (a click by default) after validation and attribution: its weight comes from the configured
/// event types, and its segment and position from the logged ranking named by <see cref="RequestId"/> when that is
/// known, else from what is known of the user.
/// </summary>
public sealed record InteractionEvent
{
    /// <summary>Client-chosen id; an id seen before counts once.</summary>
    public required string EventId { get; init; }

    public required string Type { get; init; }

    /// <summary>The weight of the type (click = 1 by default; conversion = 3, for example).</summary>
    public required double Weight { get; init; }

    public required string ItemId { get; init; }

    public string? UserId { get; init; }

    public string? RequestId { get; init; }

    /// <summary>Event time (when it happened, not when it arrived).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The segment the event counts for.</summary>
    public required string Segment { get; init; }

    /// <summary>1-based position of the item in the attributed ranking; null when not attributed.</summary>
    public int? Position { get; init; }

    public string? Surface { get; init; }
}

/// <summary>Configured interaction types and their weights (section <c>Lasthope:Events</c>).</summary>
public sealed class EventTypeOptions : IValidatableObject
{
    /// <summary>Type name to weight. Default: click = 1, conversion = 3.</summary>
    public IDictionary<string, double> Types { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["click"] = 1.0,
        ["conversion"] = 3.0,
    };

    /// <summary>The type of an event that does not name one.</summary>
    public string DefaultType { get; init; } = "click";

    /// <summary>How far in the future an event timestamp may be (clock skew) before it is rejected.</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old an event timestamp posted to the API may be before it is rejected. The default is the counters'
    /// default long window (30 days): an older event counts in no window at the current clock. Raise it to send
    /// history through the API (a replay); <c>lasthope import</c> takes history of any age.
    /// </summary>
    public TimeSpan MaxPastAge { get; init; } = TimeSpan.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Types.Count == 0)
        {
            yield return new ValidationResult("Events:Types must name at least one type.", [nameof(Types)]);
            yield break;
        }

        foreach (var (name, weight) in Types)
        {
            if (!double.IsFinite(weight) || weight < 0)
            {
                yield return new ValidationResult($"Events:Types:{name} must be a finite, non-negative weight.", [nameof(Types)]);
                yield break;
            }
        }

        if (MaxPastAge <= TimeSpan.Zero || MaxPastAge > TimeSpan.FromDays(36_525))
        {
            yield return new ValidationResult("Events:MaxPastAge must be more than zero and at most 36,525 days (a hundred years).", [nameof(MaxPastAge)]);
            yield break;
        }

        if (!Types.ContainsKey(DefaultType))
        {
            yield return new ValidationResult($"Events:DefaultType '{DefaultType}' is not among Events:Types.", [nameof(DefaultType)]);
            yield break;
        }
    }
}
