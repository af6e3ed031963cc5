using System.Buffers.Binary;
using System.Numerics;

namespace Lasthope.Factors;

/// <summary>
/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the checksum of iSCSI, ext4 and Garnet's AOF, computed with
/// the SSE4.2/ARMv8 CRC instruction through <see cref="BitOperations.Crc32C(uint, ulong)"/>.
/// Check value: CRC-32C("123456789") = 0xE3069283.
/// </summary>
internal struct Crc32C
{
    private uint _state;

    public Crc32C() => _state = uint.MaxValue;

    /// <summary>The checksum of everything appended so far.</summary>
    public readonly uint Value => ~_state;

    public void Append(ReadOnlySpan<byte> data)
    {
        var crc = _state;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        _state = crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = new Crc32C();
        crc.Append(data);
        return crc.Value;
    }
}
