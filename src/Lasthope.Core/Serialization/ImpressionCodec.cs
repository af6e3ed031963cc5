using System.Text;
using Lasthope.Core.Storage;

namespace Lasthope.Core.Serialization;

/// <summary>
/// The compact stored form of a ranking's impressions (item ids with their positions), which a replay of the counters
/// reads instead of the whole JSON body. Length-prefixed, so any id round-trips, separators and all, and an empty list
/// is a list.
/// <code>
/// byte     format version (1)
/// varint   count
/// count x  { varint position; varint byte length; UTF-8 bytes of the id }
/// </code>
/// Varints are unsigned LEB128. Decoding checks every length against what is left and refuses invalid UTF-8, so a
/// damaged value is an error (<see cref="FormatException"/>), never a wrong list.
/// </summary>
public static class ImpressionCodec
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte Version = 1;

    // Replacement (not exceptions) on encoding: a string with an unpaired surrogate, which no API accepts, is stored
    // with U+FFFD rather than failing the whole batch. Strict on decoding: damaged bytes are an error.
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(IReadOnlyList<Impression> impressions)
    {
        ArgumentNullException.ThrowIfNull(impressions);
        var size = 1 + VarintSize((uint)impressions.Count);
        foreach (var impression in impressions)
        {
            var bytes = Encoding.UTF8.GetByteCount(impression.ItemId);
            size += VarintSize((uint)impression.Position) + VarintSize((uint)bytes) + bytes;
        }

        var buffer = new byte[size];
        var at = 0;
        buffer[at++] = Version;
        at += WriteVarint(buffer.AsSpan(at), (uint)impressions.Count);
        foreach (var impression in impressions)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(impression.Position);
            at += WriteVarint(buffer.AsSpan(at), (uint)impression.Position);
            var bytes = Encoding.UTF8.GetByteCount(impression.ItemId);
            at += WriteVarint(buffer.AsSpan(at), (uint)bytes);
            at += Encoding.UTF8.GetBytes(impression.ItemId, buffer.AsSpan(at));
        }

        return buffer;
    }

    /// <summary>Decodes <see cref="Encode"/>'s output. Throws <see cref="FormatException"/> on anything else.</summary>
    public static Impression[] Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] != Version)
        {
            throw new FormatException(data.IsEmpty ? "The stored impression list is empty (no version byte)." : $"The stored impression list has format version {data[0]}; this build reads {Version}.");
        }

        var at = 1;
        var count = ReadVarint(data, ref at);
        if (count > (uint)(data.Length - at))
        {
            throw new FormatException($"The stored impression list claims {count} items in {data.Length} bytes.");
        }

        var impressions = new Impression[count];
        for (var i = 0; i < impressions.Length; i++)
        {
            var position = ReadVarint(data, ref at);
            var length = ReadVarint(data, ref at);
            if (position > int.MaxValue || length > (uint)(data.Length - at))
            {
                throw new FormatException($"The stored impression list is damaged at item {i}.");
            }

            string id;
            try
            {
                id = Strict.GetString(data.Slice(at, (int)length));
            }
            catch (DecoderFallbackException e)
            {
                throw new FormatException($"The stored impression list holds invalid UTF-8 at item {i}.", e);
            }

            at += (int)length;
            impressions[i] = new Impression(id, (int)position);
        }

        if (at != data.Length)
        {
            throw new FormatException($"The stored impression list has {data.Length - at} bytes after its last item.");
        }

        return impressions;
    }

    private static int VarintSize(uint value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }

        return size;
    }

    private static int WriteVarint(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    private static uint ReadVarint(ReadOnlySpan<byte> data, ref int at)
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (at >= data.Length)
            {
                throw new FormatException("The stored impression list ends inside a number.");
            }

            var b = data[at++];
            if (shift == 28 && b > 0x0F)
            {
                throw new FormatException("The stored impression list holds a number beyond 32 bits.");
            }

            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("The stored impression list holds a number longer than five bytes.");
    }
}
