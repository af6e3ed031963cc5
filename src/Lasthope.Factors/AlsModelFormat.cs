using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Lasthope.Factors;

/// <summary>
/// The binary format of an <see cref="AlsModel"/> (file extension <c>.lhals</c>). All integers and floats are
/// little-endian; floats are IEEE 754 binary32 unless noted.
/// </summary>
/// <remarks>
/// <para>Header, <see cref="HeaderLength"/> = 96 bytes in version 1:</para>
/// <code>
/// offset size field
///      0    8 magic 0x89 'L' 'H' 'A' 'L' 'S' '\r' '\n' (PNG-style: a non-ASCII first byte, and CR LF to catch text-mode mangling)
///      8    4 format version (uint32) = 1
///     12    4 header length in bytes (uint32) = 96; the first section starts there
///     16    4 factors f (uint32, 1..4096)
///     20    4 users U (uint32)
///     24    4 items I (uint32)
///     28    4 flags (uint32): bit 0 = the seen-items section is present; other bits zero
///     32    8 seen non-zeros S (uint64; 0 without the section)
///     40    4 regularization lambda (float32)
///     44    4 alpha (float32)
///     48    4 confidence scaling (uint32: 0 linear, 1 logarithmic)
///     52    4 epsilon (float32)
///     56    4 iterations trained (uint32)
///     60    4 CG steps (uint32)
///     64    4 solver (uint32: 0 conjugate gradient, 1 Cholesky)
///     68    4 seed (int32)
///     72    8 final training loss (float64; NaN when not computed)
///     80    4 CRC-32C of bytes 0..79, so a damaged header is refused before anything is allocated
///     84   12 reserved, zero
/// </code>
/// <para>Sections, in this order, immediately after the header:</para>
/// <code>
/// user ids       U x (uint32 byte length, that many bytes of UTF-8)
/// item ids       I x (uint32 byte length, UTF-8)
/// user factors   U x f float32, row-major (row u is x_u)
/// item factors   I x f float32, row-major (row i is y_i)
/// item counts    I x uint32: training users with a positive interaction per item (popularity)
/// seen items     if flag bit 0: (U + 1) x uint32 row starts, then S x uint32 item indices, sorted within a user
/// trailer        uint32 CRC-32C of every byte before it
/// </code>
/// <para>
/// Readers refuse a wrong magic, a version they do not know, a header CRC or trailer CRC mismatch, sizes that do not
/// fit, and a stream that ends early, each with an <see cref="InvalidDataException"/> that names the section and
/// offset. Version 1 files must keep loading (tests/Lasthope.Factors.Tests/Golden holds one).
/// </para>
/// </remarks>
public static class AlsModelFormat
{
    /// <summary>The current format version.</summary>
    public const int Version = 1;

    /// <summary>Header length of version 1.</summary>
    public const int HeaderLength = 96;

    private const int HeaderCrcOffset = 80;
    private const int MaxIdBytes = 1 << 16;

    /// <summary>The 8 magic bytes that open every file.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'L', (byte)'H', (byte)'A', (byte)'L', (byte)'S', (byte)'\r', (byte)'\n'];

    /// <summary>Writes <paramref name="model"/> to <paramref name="stream"/>.</summary>
    public static void Write(AlsModel model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new ChecksumWriter(stream);
        WriteBody(model, ref writer);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, writer.Crc.Value);
        stream.Write(trailer);
    }

    /// <summary>The trailer checksum the model would be written with (its fingerprint), without writing.</summary>
    internal static uint ComputeChecksum(AlsModel model)
    {
        var writer = new ChecksumWriter(Stream.Null);
        WriteBody(model, ref writer);
        return writer.Crc.Value;
    }

    /// <summary>Reads a model.</summary>
    /// <exception cref="InvalidDataException">The stream is not a valid model; the message says why and where.</exception>
    public static AlsModel Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var reader = new ChecksumReader(stream);
        Span<byte> header = stackalloc byte[HeaderLength];
        reader.ReadExactly(header[..16], "header");
        if (!header[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a Lasthope ALS model: the file does not start with the magic bytes 89 4C 48 41 4C 53 0D 0A.");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != Version)
        {
            throw new InvalidDataException($"Unsupported ALS model format version {version}; this build reads version {Version}.");
        }

        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (headerLength != HeaderLength)
        {
            throw new InvalidDataException($"Corrupt ALS model header: header length {headerLength}, expected {HeaderLength} for version {Version}.");
        }

        reader.ReadExactly(header[16..], "header");
        var storedHeaderCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderCrcOffset..]);
        var headerCrc = Crc32C.Compute(header[..HeaderCrcOffset]);
        if (storedHeaderCrc != headerCrc)
        {
            throw new InvalidDataException($"Corrupt ALS model header: header CRC-32C is {headerCrc:x8}, stored {storedHeaderCrc:x8}.");
        }

        var factors = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
        var users = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        var items = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[28..]);
        var seenCount = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        if (factors is < 1 or > 4096 || users > int.MaxValue || items > int.MaxValue || (flags & ~1u) != 0 ||
            seenCount > int.MaxValue || ((flags & 1) == 0 && seenCount != 0))
        {
            throw new InvalidDataException($"Corrupt ALS model header: factors {factors}, users {users}, items {items}, flags {flags:x}, seen {seenCount}.");
        }

        var options = new AlsOptions
        {
            Factors = (int)factors,
            Regularization = BinaryPrimitives.ReadSingleLittleEndian(header[40..]),
            Alpha = BinaryPrimitives.ReadSingleLittleEndian(header[44..]),
            Confidence = (ConfidenceScaling)BinaryPrimitives.ReadUInt32LittleEndian(header[48..]),
            Epsilon = BinaryPrimitives.ReadSingleLittleEndian(header[52..]),
            CgSteps = (int)Math.Max(1u, BinaryPrimitives.ReadUInt32LittleEndian(header[60..])),
            Solver = (AlsSolver)BinaryPrimitives.ReadUInt32LittleEndian(header[64..]),
            Seed = BinaryPrimitives.ReadInt32LittleEndian(header[68..]),
        };
        var iterations = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(header[56..]));
        var loss = BinaryPrimitives.ReadDoubleLittleEndian(header[72..]);
        try
        {
            options = options with { Iterations = iterations };
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"Corrupt ALS model header: {e.Message}", e);
        }

        // Refuse sizes the stream cannot hold before allocating for them.
        if (stream.CanSeek)
        {
            var minimum = HeaderLength + (4L * (users + items)) + (4L * factors * (users + items)) + (4L * items) + 4;
            if ((flags & 1) != 0)
            {
                minimum += 4L * (users + 1 + (long)seenCount);
            }

            var available = stream.Length - stream.Position + HeaderLength;
            if (available < minimum)
            {
                throw new InvalidDataException($"Truncated ALS model: the header promises at least {minimum} bytes, the file has {available}.");
            }
        }

        var userIds = ReadIds(ref reader, (int)users, "user ids");
        var itemIds = ReadIds(ref reader, (int)items, "item ids");
        var x = new FactorMatrix((int)users, (int)factors);
        var y = new FactorMatrix((int)items, (int)factors);
        ReadFactors(ref reader, x, "user factors");
        ReadFactors(ref reader, y, "item factors");
        var counts = new int[items];
        reader.ReadExactly(MemoryMarshal.AsBytes(counts.AsSpan()), "item counts");
        FixEndianness(counts);
        var seenStart = new int[users + 1];
        var seenItems = Array.Empty<int>();
        if ((flags & 1) != 0)
        {
            reader.ReadExactly(MemoryMarshal.AsBytes(seenStart.AsSpan()), "seen row starts");
            FixEndianness(seenStart);
            seenItems = new int[seenCount];
            reader.ReadExactly(MemoryMarshal.AsBytes(seenItems.AsSpan()), "seen items");
            FixEndianness(seenItems);
        }

        var computed = reader.Crc.Value;
        Span<byte> trailer = stackalloc byte[4];
        reader.ReadExactly(trailer, "trailer checksum");
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (stored != computed)
        {
            throw new InvalidDataException($"Corrupt ALS model: CRC-32C of the content is {computed:x8}, the trailer says {stored:x8}.");
        }

        ValidateSeen(seenStart, seenItems, (int)items);

        return new AlsModel(userIds, itemIds, x, y, options.Regularization, seenStart, seenItems, counts, new AlsTrainingInfo(options, iterations, loss), computed);
    }

    private static void WriteBody(AlsModel model, ref ChecksumWriter writer)
    {
        var options = model.Training.Options;
        var hasSeen = model.HasSeenItems;
        Span<byte> header = stackalloc byte[HeaderLength];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)model.Factors);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)model.Users.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)model.Items.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], hasSeen ? 1u : 0u);
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], hasSeen ? (ulong)model.AllSeenItems.Length : 0);
        BinaryPrimitives.WriteSingleLittleEndian(header[40..], model.Regularization);
        BinaryPrimitives.WriteSingleLittleEndian(header[44..], options.Alpha);
        BinaryPrimitives.WriteUInt32LittleEndian(header[48..], (uint)options.Confidence);
        BinaryPrimitives.WriteSingleLittleEndian(header[52..], options.Epsilon);
        BinaryPrimitives.WriteUInt32LittleEndian(header[56..], (uint)model.Training.IterationsTrained);
        BinaryPrimitives.WriteUInt32LittleEndian(header[60..], (uint)options.CgSteps);
        BinaryPrimitives.WriteUInt32LittleEndian(header[64..], (uint)options.Solver);
        BinaryPrimitives.WriteInt32LittleEndian(header[68..], options.Seed);
        BinaryPrimitives.WriteDoubleLittleEndian(header[72..], model.Training.FinalLoss);
        BinaryPrimitives.WriteUInt32LittleEndian(header[HeaderCrcOffset..], Crc32C.Compute(header[..HeaderCrcOffset]));
        writer.Write(header);

        WriteIds(ref writer, model.Users);
        WriteIds(ref writer, model.Items);
        WriteFactors(ref writer, model.UserMatrix);
        WriteFactors(ref writer, model.ItemMatrix);
        WriteInts(ref writer, model.ItemUserCounts);
        if (hasSeen)
        {
            WriteInts(ref writer, model.SeenStart);
            WriteInts(ref writer, model.AllSeenItems);
        }
    }

    private static void WriteIds(ref ChecksumWriter writer, IdMap ids)
    {
        var buffer = new byte[256];
        foreach (var id in ids)
        {
            var length = Encoding.UTF8.GetByteCount(id);
            if (buffer.Length < length + 4)
            {
                buffer = new byte[length + 4];
            }

            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
            Encoding.UTF8.GetBytes(id, buffer.AsSpan(4));
            writer.Write(buffer.AsSpan(0, length + 4));
        }
    }

    private static IdMap ReadIds(ref ChecksumReader reader, int count, string section)
    {
        var ids = new string[count];
        Span<byte> length = stackalloc byte[4];
        var buffer = new byte[256];
        for (var k = 0; k < count; k++)
        {
            reader.ReadExactly(length, section);
            var n = BinaryPrimitives.ReadUInt32LittleEndian(length);
            if (n > MaxIdBytes)
            {
                throw new InvalidDataException($"Corrupt ALS model: {section} entry {k} claims {n} bytes (at most {MaxIdBytes}), at offset {reader.Position - 4}.");
            }

            if (buffer.Length < n)
            {
                buffer = new byte[n];
            }

            reader.ReadExactly(buffer.AsSpan(0, (int)n), section);
            ids[k] = Encoding.UTF8.GetString(buffer, 0, (int)n);
        }

        try
        {
            return IdMap.Create(ids);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Corrupt ALS model: {section}: {e.Message}", e);
        }
    }

    private static void WriteFactors(ref ChecksumWriter writer, FactorMatrix m)
    {
        var row = new float[m.Factors];
        for (var r = 0; r < m.Rows; r++)
        {
            m.Row(r).CopyTo(row);
            if (!BitConverter.IsLittleEndian)
            {
                var raw = MemoryMarshal.Cast<float, int>(row.AsSpan());
                BinaryPrimitives.ReverseEndianness(raw, raw);
            }

            writer.Write(MemoryMarshal.AsBytes(row.AsSpan()));
        }
    }

    private static void ReadFactors(ref ChecksumReader reader, FactorMatrix m, string section)
    {
        for (var r = 0; r < m.Rows; r++)
        {
            var row = m.Row(r);
            reader.ReadExactly(MemoryMarshal.AsBytes(row), section);
            if (!BitConverter.IsLittleEndian)
            {
                var raw = MemoryMarshal.Cast<float, int>(row);
                BinaryPrimitives.ReverseEndianness(raw, raw);
            }
        }
    }

    private static void WriteInts(ref ChecksumWriter writer, ReadOnlySpan<int> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        var copy = values.ToArray();
        BinaryPrimitives.ReverseEndianness(copy, copy);
        writer.Write(MemoryMarshal.AsBytes(copy.AsSpan()));
    }

    private static void FixEndianness(Span<int> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(values, values);
        }
    }

    private static void ValidateSeen(int[] start, int[] items, int itemCount)
    {
        if (start[0] != 0 || start[^1] != items.Length)
        {
            throw new InvalidDataException($"Corrupt ALS model: seen row starts run from {start[0]} to {start[^1]}, expected 0 to {items.Length}.");
        }

        for (var u = 0; u + 1 < start.Length; u++)
        {
            if (start[u + 1] < start[u])
            {
                throw new InvalidDataException($"Corrupt ALS model: seen row starts decrease at user {u}.");
            }
        }

        foreach (var i in items)
        {
            if ((uint)i >= (uint)itemCount)
            {
                throw new InvalidDataException($"Corrupt ALS model: seen item index {i} is outside [0, {itemCount}).");
            }
        }
    }

    /// <summary>Writes through to a stream and keeps the CRC-32C of everything written.</summary>
    private struct ChecksumWriter(Stream stream)
    {
        public Crc32C Crc = new();

        public void Write(ReadOnlySpan<byte> data)
        {
            Crc.Append(data);
            stream.Write(data);
        }
    }

    /// <summary>Reads exactly, keeps the CRC-32C and the offset, and turns a short read into a clear error.</summary>
    private struct ChecksumReader(Stream stream)
    {
        public Crc32C Crc = new();

        public long Position { get; private set; }

        public void ReadExactly(Span<byte> destination, string section)
        {
            var read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (read < destination.Length)
            {
                throw new InvalidDataException($"Truncated ALS model: the stream ends in the {section} at offset {Position + read}, {destination.Length - read} bytes short.");
            }

            Crc.Append(destination);
            Position += read;
        }
    }
}
