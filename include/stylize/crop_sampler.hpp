#pragma once
// Training batches for fast mode: square crops of a folder's images, each
// resized so that its short side is the crop size (smaller images are
// enlarged), cut at a random place and flipped left-right at random. The
// n-th crop of step s depends only on the seed, s and n, so a resumed run
// sees the same batches as an uninterrupted one.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace stylize {

class CropSampler {
public:
    /// Throws InvalidArgument without images, ImageError naming a file
    /// that is missing or empty (no image is decoded here).
    CropSampler(std::vector<std::string> paths, int crop, uint64_t seed);

    const std::vector<std::string>& paths() const { return paths_; }
    /// Images whose header says their short side is below the crop size
    /// (they are enlarged, losing detail).
    const std::vector<std::string>& smaller_than_crop() const { return small_; }

    /// Crops [0, n) of `step`: (n,3,crop,crop) RGB in [0,1]. Throws
    /// ImageError naming a file that cannot be decoded.
    torch::Tensor batch(int64_t step, int n) const;

private:
    torch::Tensor crop_at(int64_t step, int index) const;

    std::vector<std::string> paths_;
    std::vector<std::string> small_;
    int crop_;
    uint64_t seed_;
};

}  // namespace stylize
