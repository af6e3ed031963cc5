using Lasthope.Server.State;

namespace Lasthope.Server.Redis;

/// <summary>
/// A served list as bytes: a version, segment, surface, the item ids and, when they are not 1, 2, 3..., positions.
/// Reading is bounded: anything malformed or larger than a ranking can be reads as absent, never as an error.
/// </summary>
internal static class ServedListBytes
{
    private const byte Version = 1;
    private const int MaxItems = 100_000;

    public static byte[] Write(ServedList served)
    {
        using var buffer = new MemoryStream(64 + (served.ItemIds.Length * 16));
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(Version);
            writer.Write(served.Segment);
            writer.Write(served.Surface);
            writer.Write7BitEncodedInt(served.ItemIds.Length);
            foreach (var id in served.ItemIds)
            {
                writer.Write(id);
            }

            writer.Write(served.Positions is not null);
            foreach (var position in served.Positions ?? [])
            {
                writer.Write7BitEncodedInt(position);
            }
        }

        return buffer.ToArray();
    }

    public static ServedList? Read(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            if (reader.ReadByte() != Version)
            {
                return null;
            }

            var segment = reader.ReadString();
            var surface = reader.ReadString();
            var count = reader.Read7BitEncodedInt();
            if (count is < 0 or > MaxItems)
            {
                return null;
            }

            var ids = new string[count];
            for (var i = 0; i < count; i++)
            {
                ids[i] = reader.ReadString();
            }

            int[]? positions = null;
            if (reader.ReadBoolean())
            {
                positions = new int[count];
                for (var i = 0; i < count; i++)
                {
                    positions[i] = reader.Read7BitEncodedInt();
                }
            }

            return new ServedList(segment, surface, ids, positions);
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or IOException)
        {
            return null;
        }
    }
}
