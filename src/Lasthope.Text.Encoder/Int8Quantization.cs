using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Lasthope.Text.Encoder;

/// <summary>
/// Dynamic int8 quantisation of an ONNX graph's weight matrices, done in memory when the encoder loads, so that the
/// package's float32 weights stay the only weights shipped. Every <c>MatMul</c> whose second input is a constant 2-D
/// float matrix becomes ONNX Runtime's <c>com.microsoft.DynamicQuantizeMatMul</c>: the weights are stored as int8,
/// symmetric per output column (scale = max |w| / 127, zero point 0), and the activations are quantised to uint8 per
/// call from their own range. This is the scheme of ONNX Runtime's <c>quantize_dynamic</c> (per-channel, QInt8 weights;
/// onnxruntime.ai/docs/performance/model-optimizations/quantization.html) and of Jacob et al. 2018, "Quantization and
/// Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference". On CPUs with VNNI the matrix products
/// then run on 8-bit integer instructions; docs/performance.md has the speed and docs/models.md the quality.
/// </summary>
public static class Int8Quantization
{
    private const string ContribDomain = "com.microsoft";

    /// <summary>The quantised model's bytes, and how many matrices were quantised.</summary>
    public static (byte[] Model, int Matrices) QuantizeMatMulWeights(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var quantised = new HashSet<string>(StringComparer.Ordinal);
        var nodes = graph.Node.ToList();
        graph.Node.Clear();
        foreach (var node in nodes)
        {
            if (node.OpType == "MatMul" && node.Input.Count == 2 && initializers.TryGetValue(node.Input[1], out var weights) && IsFloatMatrix(weights))
            {
                // A matrix shared by two products is quantised once.
                if (quantised.Add(weights.Name))
                {
                    graph.Initializer.Add(Quantise(weights));
                }

                graph.Node.Add(QuantisedProduct(node, weights.Name));
            }
            else
            {
                graph.Node.Add(node);
            }
        }

        var kept = graph.Initializer.Where(t => !quantised.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.Add(kept);
        if (!proto.OpsetImport.Any(o => o.Domain == ContribDomain))
        {
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = ContribDomain, Version = 1 });
        }

        return (proto.ToByteArray(), quantised.Count);
    }

    private static bool IsFloatMatrix(TensorProto t) =>
        t.Dims.Count == 2 && t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims[0] > 0 && t.Dims[1] > 0 && t.ExternalData.Count == 0;

    private static NodeProto QuantisedProduct(NodeProto matMul, string weights)
    {
        var node = new NodeProto { Name = matMul.Name + "_int8", OpType = "DynamicQuantizeMatMul", Domain = ContribDomain };
        node.Input.Add([matMul.Input[0], weights + "_int8", weights + "_scale", weights + "_zero"]);
        node.Output.Add(matMul.Output);
        return node;
    }

    /// <summary>The int8 matrix, its per-column scales and zero points, as three initializers.</summary>
    private static IEnumerable<TensorProto> Quantise(TensorProto weights)
    {
        int rows = checked((int)weights.Dims[0]), columns = checked((int)weights.Dims[1]);
        ReadOnlySpan<float> w = weights.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(weights.RawData.Span) : weights.FloatData.ToArray();
        if (w.Length != checked(rows * columns))
        {
            throw new InvalidDataException($"The initializer '{weights.Name}' holds {w.Length} values, not {rows} x {columns}.");
        }

        var scale = new float[columns];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                scale[j] = MathF.Max(scale[j], MathF.Abs(w[(i * columns) + j]));
            }
        }

        for (var j = 0; j < columns; j++)
        {
            scale[j] = scale[j] > 0 && float.IsFinite(scale[j]) ? scale[j] / 127f : 1f;
        }

        var q = new sbyte[rows * columns];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                q[(i * columns) + j] = (sbyte)Math.Clamp(MathF.Round(w[(i * columns) + j] / scale[j]), -127f, 127f);
            }
        }

        yield return Tensor(weights.Name + "_int8", TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(q.AsSpan()), rows, columns);
        yield return Tensor(weights.Name + "_scale", TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(scale.AsSpan()), columns);
        yield return Tensor(weights.Name + "_zero", TensorProto.Types.DataType.Int8, new byte[columns], columns);
    }

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.Add(dims);
        return t;
    }
}
