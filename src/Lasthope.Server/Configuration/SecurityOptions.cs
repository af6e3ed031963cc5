using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Lasthope.Core.Identifiers;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Configuration;

/// <summary>The scopes a key may hold.</summary>
public static class Scopes
{
    /// <summary>Serving and reading: rank, recommend, similar, explain, item stats, status, the model list.</summary>
    public const string Rank = "rank";

    /// <summary>Posting interaction events.</summary>
    public const string Events = "events";

    /// <summary>Everything that changes configuration: models, surfaces, experiments.</summary>
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Rank, Events, Admin];
}

/// <summary>Access control and per-client limits (section <c>Lasthope:Security</c>).</summary>
public sealed class SecurityOptions : IValidatableObject
{
    /// <summary>
    /// The API keys. None (the default): every request is allowed, and the server only listens on loopback unless
    /// <see cref="AllowAnonymous"/> is set.
    /// </summary>
    public IList<ApiKeyOptions> ApiKeys { get; init; } = [];

    /// <summary>Require a key (any scope) for GET /metrics. Default false: Prometheus scrapes without one.</summary>
    public bool ProtectMetrics { get; init; }

    /// <summary>Allow a server without keys to listen beyond loopback. Default false: it refuses to start.</summary>
    public bool AllowAnonymous { get; init; }

    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; init; } = new();

    public bool KeysConfigured => ApiKeys.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < ApiKeys.Count; i++)
        {
            var key = ApiKeys[i];
            var at = $"Security:ApiKeys:{i}";
            if ((key.Key is null) == (key.KeySha256 is null))
            {
                yield return new ValidationResult($"{at} needs exactly one of Key and KeySha256.", [nameof(ApiKeys)]);
                yield break;
            }

            if (key.Key is { } secret && (secret.Length < 16 || !Ids.IsValid(secret, 4096) || secret.Contains(' ', StringComparison.Ordinal)))
            {
                yield return new ValidationResult($"{at}:Key must be at least 16 characters, printable, without spaces.", [nameof(ApiKeys)]);
                yield break;
            }

            if (key.KeySha256 is { } hex && (hex.Length != 64 || !hex.All(Uri.IsHexDigit)))
            {
                yield return new ValidationResult($"{at}:KeySha256 must be the 64 hex digits of the key's SHA-256.", [nameof(ApiKeys)]);
                yield break;
            }

            if (key.Scopes.Count == 0 || key.Scopes.Any(s => !Scopes.All.Contains(s)))
            {
                yield return new ValidationResult($"{at}:Scopes must list one or more of {string.Join(", ", Scopes.All)}.", [nameof(ApiKeys)]);
                yield break;
            }

            if (!names.Add(key.NameAt(i)) || !hashes.Add(Convert.ToHexString(key.Hash())))
            {
                yield return new ValidationResult($"{at}: two keys share a name or a secret.", [nameof(ApiKeys)]);
                yield break;
            }
        }
    }
}

/// <summary>One API key: the secret (or its SHA-256) and its scopes.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A name for logs and rate-limit partitions (never the secret). Default "key-N".</summary>
    public string? Name { get; init; }

    /// <summary>The secret itself.</summary>
    public string? Key { get; init; }

    /// <summary>The hex SHA-256 of the secret's UTF-8 bytes, so that a configuration file need not hold the secret.</summary>
    public string? KeySha256 { get; init; }

    public IList<string> Scopes { get; init; } = [];

    public string NameAt(int index) => Name ?? $"key-{index}";

    /// <summary>The SHA-256 of the secret: what requests are compared against.</summary>
    public byte[] Hash() => KeySha256 is { } hex ? Convert.FromHexString(hex) : SHA256.HashData(Encoding.UTF8.GetBytes(Key!));
}

/// <summary>
/// Token buckets per client (the key's name, or the remote address without keys), section
/// <c>Lasthope:Security:RateLimits</c>. Past them a request gets 429 with Retry-After.
/// </summary>
public sealed class RateLimitOptions : IValidatableObject
{
    /// <summary>POST /v1/events requests per second per client, sustained. Default 200; 0 turns the limit off.</summary>
    public double EventsPerSecond { get; init; } = 200;

    /// <summary>Events requests a client may send in a burst above the sustained rate. Default 400.</summary>
    public int EventsBurst { get; init; } = 400;

    /// <summary>Administration requests (models, surfaces) per second per client. Default 2; 0 turns the limit off.</summary>
    public double AdminPerSecond { get; init; } = 2;

    /// <summary>Administration requests in a burst. Default 20.</summary>
    public int AdminBurst { get; init; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!double.IsFinite(EventsPerSecond) || EventsPerSecond < 0 || !double.IsFinite(AdminPerSecond) || AdminPerSecond < 0)
        {
            yield return new ValidationResult("Security:RateLimits:EventsPerSecond and AdminPerSecond must be finite and not negative.", [nameof(EventsPerSecond)]);
            yield break;
        }

        if (EventsBurst < 1 || AdminBurst < 1)
        {
            yield return new ValidationResult("Security:RateLimits:EventsBurst and AdminBurst must be at least 1.", [nameof(EventsBurst)]);
            yield break;
        }
    }
}
