using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Events;

namespace Lasthope.Core.Serialization;

/// <summary>
/// The JSON form of logged records, shared by every store. Enums use their wire names (model_partial, timeout, ...);
/// feature values may be NaN (a missing value), which plain JSON cannot carry, so they are written as "NaN".
/// </summary>
public static class LogJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static byte[] Serialize(RankingLog ranking) => JsonSerializer.SerializeToUtf8Bytes(ranking, LogJsonContext.Default.RankingLog);

    public static RankingLog Deserialize(ReadOnlySpan<byte> utf8)
        => JsonSerializer.Deserialize(utf8, LogJsonContext.Default.RankingLog) ?? throw new JsonException("A logged ranking was null.");

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        return options;
    }
}

[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RankingLog))]
[JsonSerializable(typeof(InteractionEvent))]
internal sealed partial class LogJsonContext : JsonSerializerContext;
