using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// The evaluation kernels. A block of up to <see cref="CompiledForest.BlockSize"/> documents is first turned into slot
/// values (<see cref="Preprocess{T}"/>), stored slot-major; then every tree walks the block eight documents at a time.
/// <para>
/// Cost model (the maths next to the kernel): a tree of depth D costs D steps per document. Each step is three loads
/// (the node, the slot value, the chosen child via the node's own line) and a compare; a single document's steps form a
/// dependency chain of about 4 + 4 + 1 cycles of load latency, so one document at a time leaves the core idle. Eight
/// independent chains keep the load ports busy: the bound becomes throughput (about 1-1.5 cycles a step) instead of
/// latency (about 10). Leaves point to themselves, so all eight walk exactly D steps with no exit test and no branch
/// that depends on the data; a shallow leaf wastes a few steps, which is cheaper than a mispredicted exit.
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class ForestKernels
{

    /// <summary>
    /// Writes slot values for <paramref name="count"/> documents of <paramref name="rows"/> (row-major,
    /// <paramref name="featureCount"/> values each) into <paramref name="x"/>: slot s of document d at
    /// <c>x[s * columns + d]</c>.
    /// </summary>
    public static void Preprocess<T>(CompiledForest forest, T* rows, int featureCount, int count, T* x, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (int* slotFeature = forest.SlotFeature)
        {
            foreach (var (kind, start, end) in forest.SlotRanges)
            {
                switch (kind)
                {
                    case SlotKind.Plain: Fill<T, PlainTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.ZeroLeft: Fill<T, ZeroLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.ZeroRight: Fill<T, ZeroRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.NaNLeft: Fill<T, NaNLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.NaNRight: Fill<T, NaNRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.FloatLeft: Fill<T, FloatLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.FloatRight: Fill<T, FloatRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    default: Fill<T, RawTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                }
            }
        }
    }

    /// <summary>
    /// As <see cref="Preprocess{T}"/>, but writes order keys (<see cref="OrderKey"/>): 64-bit for double inputs,
    /// 32-bit for float inputs, with <see cref="CompiledForest.BlockSize"/> columns. The input of the numeric kernel.
    /// </summary>
    public static void PreprocessKeys<T>(CompiledForest forest, T* rows, int featureCount, int count, void* keys)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (int* slotFeature = forest.SlotFeature)
        {
            foreach (var (kind, start, end) in forest.SlotRanges)
            {
                switch (kind)
                {
                    case SlotKind.Plain: FillKeys<T, PlainTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.ZeroLeft: FillKeys<T, ZeroLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.ZeroRight: FillKeys<T, ZeroRightTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.NaNLeft: FillKeys<T, NaNLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.NaNRight: FillKeys<T, NaNRightTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.FloatLeft: FillKeys<T, FloatLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    case SlotKind.FloatRight: FillKeys<T, FloatRightTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                    default: FillKeys<T, RawTransform>(slotFeature, start, end, rows, featureCount, count, keys); break;
                }
            }
        }
    }

    private static void FillKeys<T, TTransform>(int* slotFeature, int start, int end, T* rows, int featureCount, int count, void* keys)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TTransform : ISlotTransform
    {
        // Vectorised across documents: a slot's values for consecutive documents are one row apart in the input and
        // adjacent in the output, so each vector is assembled from strided loads and stored whole.
        for (var s = start; s < end; s++)
        {
            var source = rows + slotFeature[s];
            if (typeof(T) == typeof(double))
            {
                var target = (long*)keys + ((nint)s * CompiledForest.BlockSize);
                var src = (double*)source;
                var d = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; d + 4 <= count; d += 4, src += 4 * featureCount)
                    {
                        var v = Vector256.Create(src[0], src[featureCount], src[2 * featureCount], src[3 * featureCount]);
                        OrderKey.Of(TTransform.Apply(v.As<double, T>()).AsDouble()).Store(target + d);
                    }
                }

                for (; d < count; d++, src += featureCount)
                {
                    target[d] = OrderKey.Of((double)(object)TTransform.Apply((T)(object)*src));
                }
            }
            else
            {
                var target = (int*)keys + ((nint)s * CompiledForest.BlockSize);
                var src = (float*)source;
                var d = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; d + 8 <= count; d += 8, src += 8 * featureCount)
                    {
                        var v = Vector256.Create(
                            src[0], src[featureCount], src[2 * featureCount], src[3 * featureCount],
                            src[4 * featureCount], src[5 * featureCount], src[6 * featureCount], src[7 * featureCount]);
                        OrderKey.Of(TTransform.Apply(v.As<float, T>()).AsSingle()).Store(target + d);
                    }
                }

                for (; d < count; d++, src += featureCount)
                {
                    target[d] = OrderKey.Of((float)(object)TTransform.Apply((T)(object)*src));
                }
            }
        }
    }

    private static void Fill<T, TTransform>(int* slotFeature, int start, int end, T* rows, int featureCount, int count, T* x, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TTransform : ISlotTransform
    {
        for (var s = start; s < end; s++)
        {
            var source = rows + slotFeature[s];
            var target = x + ((nint)s * columns);
            for (var d = 0; d < count; d++)
            {
                target[d] = TTransform.Apply(source[(nint)d * featureCount]);
            }
        }
    }

    /// <summary>
    /// Adds trees [<paramref name="treeFrom"/>, <paramref name="treeTo"/>) to <paramref name="accumulator"/> for
    /// <paramref name="groups"/> groups of eight documents whose slot keys (<see cref="PreprocessKeys{T}"/>) are in
    /// <paramref name="keys"/>. Numerical splits only. The sum is taken tree by tree in model order, as LightGBM does,
    /// so double-precision scores match it to the bit. T is the input type; the keys are long for double, int for float.
    /// </summary>
    public static void AddTrees<T>(CompiledForest forest, void* keys, int groups, double* accumulator, int treeFrom, int treeTo)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            AddTrees<long>(forest, forest.Nodes<double>(), forest.RootLinkD, (long*)keys, groups, accumulator, treeFrom, treeTo);
        }
        else
        {
            AddTrees<int>(forest, forest.Nodes<float>(), forest.RootLinkF, (int*)keys, groups, accumulator, treeFrom, treeTo);
        }
    }

    private static void AddTrees<TKey>(CompiledForest forest, byte* nodes, long[] rootLinks, TKey* x, int groups, double* accumulator, int treeFrom, int treeTo)
        where TKey : unmanaged, IBinaryInteger<TKey>
    {
        var treeCount = forest.TreeCount;
        var nodeSize = sizeof(Node<TKey>);
        fixed (long* roots = rootLinks)
        fixed (int* leafStarts = forest.LeafStart)
        fixed (int* starts = forest.Root)
        fixed (double* values = forest.Value)
        {
            for (var t = treeFrom; t < treeTo; t++)
            {
                // A large model does not fit in L2 and is streamed once per block of documents; the walk visits a
                // tree's nodes in data-dependent order, which the hardware prefetcher cannot follow. So fetch the next
                // tree while this one runs: its nodes and leaf values, a few dozen lines.
                if (Sse.IsSupported && t + 1 < treeCount)
                {
                    var nextEndNode = t + 2 < treeCount ? starts[t + 2] : forest.NodeCount;
                    for (var line = nodes + ((nint)starts[t + 1] * nodeSize); line < nodes + ((nint)nextEndNode * nodeSize); line += 64)
                    {
                        Sse.Prefetch0(line);
                    }

                    for (var line = (byte*)(values + leafStarts[t + 1]); line < (byte*)(values + nextEndNode); line += 64)
                    {
                        Sse.Prefetch0(line);
                    }
                }

                var origin = leafStarts[t];
                var p = nodes + ((nint)origin * nodeSize);
                var value = values + origin;
                var root = roots[t];
                for (var g = 0; g < groups; g++)
                {
                    var xs = (byte*)(x + (g * 8));
                    long n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;

                    // Two steps per exit test: a step at a leaf stays there, and the test is one OR chain and a branch
                    // that mispredicts about once per tree and group.
                    do
                    {
                        n0 = Step<TKey>(p, n0, xs, 0);
                        n1 = Step<TKey>(p, n1, xs, 1);
                        n2 = Step<TKey>(p, n2, xs, 2);
                        n3 = Step<TKey>(p, n3, xs, 3);
                        n4 = Step<TKey>(p, n4, xs, 4);
                        n5 = Step<TKey>(p, n5, xs, 5);
                        n6 = Step<TKey>(p, n6, xs, 6);
                        n7 = Step<TKey>(p, n7, xs, 7);
                        n0 = Step<TKey>(p, n0, xs, 0);
                        n1 = Step<TKey>(p, n1, xs, 1);
                        n2 = Step<TKey>(p, n2, xs, 2);
                        n3 = Step<TKey>(p, n3, xs, 3);
                        n4 = Step<TKey>(p, n4, xs, 4);
                        n5 = Step<TKey>(p, n5, xs, 5);
                        n6 = Step<TKey>(p, n6, xs, 6);
                        n7 = Step<TKey>(p, n7, xs, 7);
                    }
                    while ((n0 | n1 | n2 | n3 | n4 | n5 | n6 | n7) < 0);

                    var a = accumulator + (g * 8);
                    if (typeof(TKey) == typeof(long))
                    {
                        a[0] += *(double*)(p + (n0 >> 32));
                        a[1] += *(double*)(p + (n1 >> 32));
                        a[2] += *(double*)(p + (n2 >> 32));
                        a[3] += *(double*)(p + (n3 >> 32));
                        a[4] += *(double*)(p + (n4 >> 32));
                        a[5] += *(double*)(p + (n5 >> 32));
                        a[6] += *(double*)(p + (n6 >> 32));
                        a[7] += *(double*)(p + (n7 >> 32));
                    }
                    else
                    {
                        a[0] += value[(int)(n0 >> 32) / sizeof(Node<TKey>)];
                        a[1] += value[(int)(n1 >> 32) / sizeof(Node<TKey>)];
                        a[2] += value[(int)(n2 >> 32) / sizeof(Node<TKey>)];
                        a[3] += value[(int)(n3 >> 32) / sizeof(Node<TKey>)];
                        a[4] += value[(int)(n4 >> 32) / sizeof(Node<TKey>)];
                        a[5] += value[(int)(n5 >> 32) / sizeof(Node<TKey>)];
                        a[6] += value[(int)(n6 >> 32) / sizeof(Node<TKey>)];
                        a[7] += value[(int)(n7 >> 32) / sizeof(Node<TKey>)];
                    }
                }
            }
        }
    }

    /// <summary>
    /// One step, branch-free. <paramref name="link"/> holds the node's byte offset from <paramref name="origin"/> (low
    /// half) and its slot's byte offset (high half); document <paramref name="lane"/>'s slot key is at
    /// <c>xs + slot + lane * sizeof(TKey)</c> (the lane is a constant, folded into the address). Both child links are
    /// loaded while the key is fetched, and the integer comparison selects one (a <c>cmov</c>): the chain from one
    /// link to the next is a load, a compare and a select.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Step<TKey>(byte* origin, long link, byte* xs, int lane)
        where TKey : unmanaged, IBinaryInteger<TKey>
    {
        var n = origin + (nint)(link >> 32);
        nint goRight = *(TKey*)(xs + (nint)(uint)link + (lane * sizeof(TKey))) <= *(TKey*)n ? 0 : 1;
        return ((long*)(n + sizeof(TKey)))[goRight];
    }

    /// <summary>
    /// The general kernel for models with categorical splits: one document at a time, a branch per node on its kind.
    /// Used only when the model has categorical splits; <paramref name="x"/> has <see cref="CompiledForest.BlockSize"/> columns.
    /// </summary>
    public static void AddTreesGeneral<T>(CompiledForest forest, T* x, int count, double* accumulator, int treeFrom, int treeTo)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (double* value = forest.Value)
        {
            for (var t = treeFrom; t < treeTo; t++)
            {
                var root = forest.Root[t];
                var leafStart = forest.LeafStart[t];
                for (var d = 0; d < count; d++)
                {
                    var node = root;
                    while (node < leafStart)
                    {
                        node = Next(forest, node, x, CompiledForest.BlockSize, d);
                    }

                    accumulator[d] += value[node];
                }
            }
        }
    }

    /// <summary>The child a document goes to, for any node kind (the scalar path: explanations, leaf indices).</summary>
    public static int Next<T>(CompiledForest forest, int node, T* x, int columns, int doc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var v = x[((nint)forest.NodeSlot[node] * columns) + doc];
        if (forest.IsCategorical[node])
        {
            return InCategorySet(forest, node, double.CreateTruncating(v)) ? forest.Left[node] : forest.Right[node];
        }

        return v <= forest.Threshold<T>(node) ? forest.Left[node] : forest.Right[node];
    }

    /// <summary>
    /// LightGBM's CategoricalDecision (tree.h): the value is cast to int; NaN and negative values go right (on x86 the
    /// C++ cast of NaN or of a value beyond int range yields INT_MIN, which is negative); otherwise the category goes
    /// left when its bit is set in the node's bitset.
    /// </summary>
    private static bool InCategorySet(CompiledForest forest, int node, double v)
    {
        if (!(v > -1.0 && v < 2147483648.0))
        {
            return false;
        }

        var category = (int)v;
        var word = category >> 5;
        if (word >= forest.CatLength[node])
        {
            return false;
        }

        return ((forest.CatBits[forest.CatOffset[node] + word] >> (category & 31)) & 1) != 0;
    }
}
