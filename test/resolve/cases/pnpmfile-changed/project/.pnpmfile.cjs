module.exports = {
  hooks: {
    readPackage(pkg) {
      pkg.description = 'edited'
      return pkg
    },
  },
}
