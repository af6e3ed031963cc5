using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lasthope.Core.Serialization;

/// <summary>
/// Writes a double[] as the base64 of its little-endian IEEE 754 bytes, which round-trips every value exactly (NaN
/// and infinities too) in about 11 characters a value; reads that form, or a plain JSON array of numbers.
/// </summary>
public sealed class ExactDoublesConverter : JsonConverter<double[]>
{
    public override double[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var bytes = reader.GetBytesFromBase64();
            if (bytes.Length % sizeof(double) != 0)
            {
                throw new JsonException($"Feature values: {bytes.Length} bytes is not a whole number of doubles.");
            }

            var values = new double[bytes.Length / sizeof(double)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)));
            }

            return values;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Feature values must be a base64 string or an array of numbers.");
        }

        var list = new List<double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(reader.TokenType == JsonTokenType.String ? double.Parse(reader.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : reader.GetDouble());
        }

        return [.. list];
    }

    public override void Write(Utf8JsonWriter writer, double[] value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        var bytes = new byte[value.Length * sizeof(double)];
        for (var i = 0; i < value.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * sizeof(double)), value[i]);
        }

        writer.WriteBase64StringValue(bytes);
    }
}
