#pragma once
// Typed errors thrown by the stylize library. Every message names the file or
// value at fault and, where there is one, what to do about it. The CLI maps
// each type to its own exit code (see README.md and docs/REFERENCE.md, "Exit codes").
#include <stdexcept>
#include <string>

namespace stylize {

/// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An option or argument value is out of range or malformed.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/// An image could not be read, decoded or written.
class ImageError : public Error {
public:
    using Error::Error;
};

/// The model file is missing, unreadable, or not a usable feature extractor.
class ModelError : public Error {
public:
    using Error::Error;
};

/// A failure while computing: device unavailable, out of memory, non-finite loss.
class RuntimeFailure : public Error {
public:
    using Error::Error;
};

/// The run needs more memory than is available; carries the estimate.
class OutOfMemory : public RuntimeFailure {
public:
    OutOfMemory(const std::string& what, double needed_bytes, double available_bytes)
        : RuntimeFailure(what), needed_bytes_(needed_bytes), available_bytes_(available_bytes) {}
    double needed_bytes() const { return needed_bytes_; }
    double available_bytes() const { return available_bytes_; }

private:
    double needed_bytes_;
    double available_bytes_;
};

}  // namespace stylize
