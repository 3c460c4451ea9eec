module.exports = 'd'
