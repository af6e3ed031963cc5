namespace Lasthope.Core.Items;

/// <summary>An item's numeric attributes as a JSON object of numbers (shortest round-trip form: exact).</summary>
public static class ItemNumbersJson
{
    public static string Encode(IReadOnlyDictionary<string, double> numbers)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (name, value) in numbers)
            {
                json.WriteNumber(name, value);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static Dictionary<string, double> Decode(string text)
    {
        using var document = System.Text.Json.JsonDocument.Parse(text);
        var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            numbers[property.Name] = property.Value.GetDouble();
        }

        return numbers;
    }
}
