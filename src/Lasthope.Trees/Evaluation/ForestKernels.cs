using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Preprocessing and the kernels other than the bitvector one. A block of up to <see cref="CompiledForest.BlockSize"/>
/// documents is first turned into slot keys (<see cref="PreprocessKeys{T}"/>), stored slot-major; then every tree adds
/// its leaf value to each document's accumulator, tree by tree in model order (which is what makes the sums equal
/// lib_lightgbm's to the bit): through <see cref="BitvectorKernels"/> for trees of up to 64 leaves,
/// <see cref="AddTreeLockstep"/> for larger numerical trees, <see cref="AddTreeGeneral"/> for larger categorical ones.
/// </summary>
[SkipLocalsInit]
internal static unsafe class ForestKernels
{
    /// <summary>
    /// Writes the slot keys (<see cref="OrderKey"/> of each slot's transformed value) of <paramref name="count"/>
    /// documents of <paramref name="rows"/> (row-major, <paramref name="featureCount"/> values each) into
    /// <paramref name="keys"/>: by groups of <paramref name="group"/> documents (<see cref="CompiledForest.KeyGroup"/>
    /// for a block, 1 for a single document), slot-major within a group, as <see cref="CompiledForest.KeyIndex"/>
    /// says. Float inputs are widened to double first, which is exact, so they give the keys of the same values as
    /// doubles.
    /// </summary>
    public static void PreprocessKeys<T>(CompiledForest forest, T* rows, int featureCount, int count, long* keys, int group)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (int* slotFeature = forest.SlotFeature)
        {
            foreach (var (kind, start, end) in forest.SlotRanges)
            {
                switch (kind)
                {
                    case SlotKind.Plain: FillKeys<T, PlainTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.ZeroLeft: FillKeys<T, ZeroLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.ZeroRight: FillKeys<T, ZeroRightTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.NaNLeft: FillKeys<T, NaNLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.NaNRight: FillKeys<T, NaNRightTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.FloatLeft: FillKeys<T, FloatLeftTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    case SlotKind.FloatRight: FillKeys<T, FloatRightTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                    default: FillKeys<T, RawTransform>(slotFeature, start, end, rows, featureCount, count, keys, group, forest.SlotCount); break;
                }
            }
        }
    }

    private static void FillKeys<T, TTransform>(int* slotFeature, int start, int end, T* rows, int featureCount, int count, long* keys, int group, int slots)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TTransform : ISlotTransform
    {
        // Vectorised across documents: a slot's values for consecutive documents are one row apart in the input and
        // adjacent in the output (within a group), so each vector is assembled from strided loads and stored whole.
        var groupStride = (nint)slots * group;
        for (var s = start; s < end; s++)
        {
            var source = rows + slotFeature[s];
            var target = keys + ((nint)s * group);
            var d = 0;
            if (Vector256.IsHardwareAccelerated && group % 4 == 0)
            {
                for (; d + 4 <= count; d += 4, source += 4 * featureCount)
                {
                    var v = Vector256.Create(Wide(source[0]), Wide(source[featureCount]), Wide(source[2 * featureCount]), Wide(source[3 * featureCount]));
                    OrderKey.Of(TTransform.Apply(v)).Store(target + ((d / group) * groupStride) + (d % group));
                }
            }

            for (; d < count; d++, source += featureCount)
            {
                target[((d / group) * groupStride) + (d % group)] = OrderKey.Of(TTransform.Apply(Wide(*source)));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Wide<T>(T value)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? (double)(object)value : (float)(object)value;

    /// <summary>The value a key was made from (NaN for NaN; -0 comes back as +0): what a categorical node tests.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ValueOf(long key) => BitConverter.Int64BitsToDouble(key ^ ((key >> 63) & long.MaxValue));

    /// <summary>
    /// Adds tree <paramref name="tree"/> to <paramref name="accumulator"/> for <paramref name="groups"/> groups of
    /// eight documents of the block whose keys are <paramref name="keys"/> (a group of
    /// <see cref="CompiledForest.KeyGroup"/> is two of these). Numerical trees only.
    /// <para>
    /// Cost model: a tree of depth D costs D steps per document. A single document's steps form a dependency chain of
    /// loads (link, slot key, next link), about 10 cycles a step; eight independent chains keep the load ports busy,
    /// so the bound becomes throughput instead of latency. Leaves point to themselves, so all eight walk until the
    /// deepest arrives without a branch that depends on the data.
    /// </para>
    /// </summary>
    public static void AddTreeLockstep(CompiledForest forest, long* keys, int groups, double* accumulator, int tree)
    {
        var p = (byte*)(forest.LockstepNodes + forest.LeafStart[tree]);
        var root = forest.RootLink[tree];
        for (var g = 0; g < groups; g++)
        {
            var xs = (byte*)(keys + ((g >> 1) * forest.SlotCount * CompiledForest.KeyGroup) + ((g & 1) * 8));
            long n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;

            // Two steps per exit test: a step at a leaf stays there, and the test is one OR chain and a branch that
            // mispredicts about once per tree and group.
            do
            {
                n0 = Step(p, n0, xs, 0);
                n1 = Step(p, n1, xs, 1);
                n2 = Step(p, n2, xs, 2);
                n3 = Step(p, n3, xs, 3);
                n4 = Step(p, n4, xs, 4);
                n5 = Step(p, n5, xs, 5);
                n6 = Step(p, n6, xs, 6);
                n7 = Step(p, n7, xs, 7);
                n0 = Step(p, n0, xs, 0);
                n1 = Step(p, n1, xs, 1);
                n2 = Step(p, n2, xs, 2);
                n3 = Step(p, n3, xs, 3);
                n4 = Step(p, n4, xs, 4);
                n5 = Step(p, n5, xs, 5);
                n6 = Step(p, n6, xs, 6);
                n7 = Step(p, n7, xs, 7);
            }
            while ((n0 | n1 | n2 | n3 | n4 | n5 | n6 | n7) < 0);

            // A leaf keeps its value in the threshold field of its own node.
            var a = accumulator + (g * 8);
            a[0] += *(double*)(p + (n0 >> 32));
            a[1] += *(double*)(p + (n1 >> 32));
            a[2] += *(double*)(p + (n2 >> 32));
            a[3] += *(double*)(p + (n3 >> 32));
            a[4] += *(double*)(p + (n4 >> 32));
            a[5] += *(double*)(p + (n5 >> 32));
            a[6] += *(double*)(p + (n6 >> 32));
            a[7] += *(double*)(p + (n7 >> 32));
        }
    }

    /// <summary>
    /// One lockstep step, branch-free. <paramref name="link"/> holds the node's byte offset from
    /// <paramref name="origin"/> (high half) and its slot's byte offset (low half); document <paramref name="lane"/>'s
    /// key is at <c>xs + slot + lane * 8</c> (the lane is a constant, folded into the address). The integer
    /// comparison selects one of the two adjacent child links: the chain from one link to the next is a load, a
    /// compare and an indexed load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Step(byte* origin, long link, byte* xs, int lane)
    {
        var n = origin + (nint)(link >> 32);
        nint goRight = *(long*)(xs + (nint)(uint)link + (lane * sizeof(long))) <= *(long*)n ? 0 : 1;
        return ((long*)(n + sizeof(long)))[goRight];
    }

    /// <summary>
    /// Adds tree <paramref name="tree"/> for <paramref name="count"/> documents, one at a time, a branch per node on its
    /// kind: for categorical trees too large for the bitvector kernel.
    /// </summary>
    public static void AddTreeGeneral(CompiledForest forest, long* keys, int count, double* accumulator, int tree)
    {
        var root = forest.Root[tree];
        var leafStart = forest.LeafStart[tree];
        var value = forest.Value;
        for (var d = 0; d < count; d++)
        {
            var node = root;
            while (node < leafStart)
            {
                node = GoesLeft(forest, node, keys[forest.KeyIndex(forest.NodeSlot[node], d)]) ? forest.Left[node] : forest.Right[node];
            }

            accumulator[d] += value[node];
        }
    }

    /// <summary>
    /// The child a document goes to, for any node kind (the scalar paths: explanations, leaf indices);
    /// <paramref name="keys"/> holds one document's slot keys.
    /// </summary>
    public static int Next(CompiledForest forest, int node, long* keys) =>
        GoesLeft(forest, node, keys[forest.NodeSlot[node]]) ? forest.Left[node] : forest.Right[node];

    /// <summary>Whether a document whose slot key at the node is <paramref name="key"/> goes left there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool GoesLeft(CompiledForest forest, int node, long key) =>
        forest.IsCategorical[node] ? InCategorySet(forest, node, ValueOf(key)) : key <= forest.ThresholdKey[node];

    /// <summary>
    /// LightGBM's CategoricalDecision (tree.h): the value is cast to int; NaN and negative values go right (on x86 the
    /// C++ cast of NaN or of a value beyond int range yields INT_MIN, which is negative); otherwise the category goes
    /// left when its bit is set in the node's bitset.
    /// </summary>
    public static bool InCategorySet(CompiledForest forest, int node, double v)
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

    /// <summary>
    /// Adds trees [<paramref name="treeFrom"/>, <paramref name="treeTo"/>) to the accumulators of a block of
    /// <paramref name="count"/> documents: <paramref name="accumulators"/> holds <see cref="CompiledForest.BlockSize"/>
    /// values per class, class-major. Each tree goes to the kernel its shape allows.
    /// </summary>
    public static void AddTrees(CompiledForest forest, long* keys, int count, double* accumulators, int treeFrom, int treeTo, BitvectorWidth width)
    {
        var kernels = forest.Kernel;
        var classes = forest.TreeClass;
        for (var t = treeFrom; t < treeTo;)
        {
            if (kernels[t] == TreeKernel.Bitvector)
            {
                // A run of bitvector trees goes in one call, which orders the work for the cache.
                var end = t + 1;
                while (end < treeTo && kernels[end] == TreeKernel.Bitvector)
                {
                    end++;
                }

                BitvectorKernels.AddTrees(forest, t, end, keys, count, accumulators, width);
                t = end;
                continue;
            }

            var accumulator = accumulators + (classes[t] * CompiledForest.BlockSize);
            if (kernels[t] == TreeKernel.Lockstep)
            {
                if (Sse.IsSupported && t + 1 < forest.TreeCount)
                {
                    Prefetch(forest, t + 1);
                }

                AddTreeLockstep(forest, keys, (count + 7) >> 3, accumulator, t);
            }
            else
            {
                AddTreeGeneral(forest, keys, count, accumulator, t);
            }

            t++;
        }
    }

    /// <summary>
    /// A large model does not fit in L2 and is streamed once per block of documents; the lockstep walk visits a tree's
    /// nodes in data-dependent order, which the hardware prefetcher cannot follow. So fetch the next tree while this
    /// one runs.
    /// </summary>
    private static void Prefetch(CompiledForest forest, int tree)
    {
        var start = (byte*)(forest.LockstepNodes + forest.Root[tree]);
        var end = (byte*)(forest.LockstepNodes + (tree + 1 < forest.TreeCount ? forest.Root[tree + 1] : forest.NodeCount));
        for (var line = start; line < end; line += 64)
        {
            Sse.Prefetch0(line);
        }
    }
}
