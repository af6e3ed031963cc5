using System.ComponentModel.DataAnnotations;

namespace Lasthope.Server.Configuration;

/// <summary>
/// What one client may hold of the server (section <c>Lasthope:Limits</c>): connections, time to send a request,
/// and the size of model uploads. Each limit is set on purpose; the defaults suit a backend calling over a network.
/// </summary>
public sealed class LimitsOptions : IValidatableObject
{
    /// <summary>
    /// The longest a JSON request body (rank, recommend, events) may take to arrive, from the end of its headers. The
    /// body is read whole before the request takes a serving slot, so a slow sender holds only its connection; past
    /// this it gets 408 and the connection is closed. Default 5000 ms.
    /// </summary>
    public double BodyReadTimeoutMs { get; init; } = 5_000;

    /// <summary>
    /// JSON bodies being received at once; past this a request gets 503 with Retry-After before any read, which bounds
    /// the memory the bodies hold (this times <see cref="RankingOptions.MaxBodyBytes"/>). Default 256.
    /// </summary>
    public int MaxConcurrentBodyReads { get; init; } = 256;

    /// <summary>
    /// Kestrel's minimum body data rate, after a grace period of <see cref="MinBodyRateGraceSeconds"/>: a body that
    /// arrives slower is cut off with 408 (model uploads included). Default 1024 bytes/s.
    /// </summary>
    public double MinBodyBytesPerSecond { get; init; } = 1024;

    public double MinBodyRateGraceSeconds { get; init; } = 2;

    /// <summary>Kestrel's limit on the time to receive a request's headers. Default 10 s (Kestrel's own: 30).</summary>
    public double RequestHeadersTimeoutSeconds { get; init; } = 10;

    /// <summary>How long an idle keep-alive connection stays open. Default 60 s (Kestrel's own: 130).</summary>
    public double KeepAliveTimeoutSeconds { get; init; } = 60;

    /// <summary>Open connections at once; more wait in the listen backlog. Default 10,000 (Kestrel's own: no limit).</summary>
    public long MaxConcurrentConnections { get; init; } = 10_000;

    /// <summary>Largest model file accepted by POST /v1/models; past it the upload gets 413 at once. Default 64 MiB.</summary>
    public long MaxModelBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Items the catalog holds (<c>POST /v1/items</c>); a batch that would add more is refused whole (422). Default 1,000,000.</summary>
    public int MaxItems { get; init; } = 1_000_000;

    /// <summary>Items in one <c>POST /v1/items</c>. Default 10,000.</summary>
    public int MaxItemsPerBatch { get; init; } = 10_000;

    /// <summary>Users whose recent clicks are kept in memory for the user-history features. Default 200,000.</summary>
    public int MaxHistoryUsers { get; init; } = 200_000;

    /// <summary>Rows in one <c>POST /v1/predict/{name}</c> (the batch form). Default 1,000; a larger file is for <c>lasthope score-batch</c>.</summary>
    public int MaxPredictRows { get; init; } = 1_000;

    /// <summary>Texts in one <c>POST /v1/text/{name}</c>. Default 64 (one encoder batch of short texts fits a budget of tens of ms).</summary>
    public int MaxTextBatch { get; init; } = 64;

    /// <summary>Characters of one text. Default 2,000 (the encoder reads 256 word pieces; the baseline's n-grams grow with the length).</summary>
    public int MaxTextLength { get; init; } = 2_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!double.IsFinite(BodyReadTimeoutMs) || BodyReadTimeoutMs <= 0)
        {
            yield return new ValidationResult("Limits:BodyReadTimeoutMs must be a positive number of milliseconds.", [nameof(BodyReadTimeoutMs)]);
            yield break;
        }

        if (MaxConcurrentBodyReads < 1)
        {
            yield return new ValidationResult("Limits:MaxConcurrentBodyReads must be at least 1.", [nameof(MaxConcurrentBodyReads)]);
            yield break;
        }

        if (!double.IsFinite(MinBodyBytesPerSecond) || MinBodyBytesPerSecond < 0 || !double.IsFinite(MinBodyRateGraceSeconds) || MinBodyRateGraceSeconds < 1)
        {
            yield return new ValidationResult("Limits:MinBodyBytesPerSecond must not be negative and Limits:MinBodyRateGraceSeconds must be at least 1.", [nameof(MinBodyBytesPerSecond)]);
            yield break;
        }

        if (!double.IsFinite(RequestHeadersTimeoutSeconds) || RequestHeadersTimeoutSeconds <= 0 || !double.IsFinite(KeepAliveTimeoutSeconds) || KeepAliveTimeoutSeconds <= 0)
        {
            yield return new ValidationResult("Limits:RequestHeadersTimeoutSeconds and KeepAliveTimeoutSeconds must be positive.", [nameof(RequestHeadersTimeoutSeconds)]);
            yield break;
        }

        if (MaxConcurrentConnections < 1 || MaxModelBytes < 1024)
        {
            yield return new ValidationResult("Limits:MaxConcurrentConnections must be at least 1 and Limits:MaxModelBytes at least 1024.", [nameof(MaxConcurrentConnections)]);
            yield break;
        }

        if (MaxItems < 1 || MaxItemsPerBatch is < 1 or > 100_000 || MaxHistoryUsers < 1)
        {
            yield return new ValidationResult("Limits:MaxItems and MaxHistoryUsers must be at least 1, Limits:MaxItemsPerBatch in [1, 100000].", [nameof(MaxItems)]);
        }

        if (MaxPredictRows is < 1 or > 100_000)
        {
            yield return new ValidationResult("Limits:MaxPredictRows must be in [1, 100000].", [nameof(MaxPredictRows)]);
        }

        if (MaxTextBatch is < 1 or > 10_000 || MaxTextLength is < 1 or > 1_000_000)
        {
            yield return new ValidationResult("Limits:MaxTextBatch must be in [1, 10000] and Limits:MaxTextLength in [1, 1000000].", [nameof(MaxTextBatch)]);
        }
    }
}
