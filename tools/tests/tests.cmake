# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of the operator tools (included from tools/CMakeLists.txt).
