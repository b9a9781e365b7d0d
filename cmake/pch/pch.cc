// Compiled only to produce the precompiled headers listed in cmake/Pch.cmake.
